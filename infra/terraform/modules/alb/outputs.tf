output "arn_suffix" {
  description = "For CloudWatch metrics (LoadBalancer dimension)."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "The load balancer's DNS name."
  value       = aws_lb.this.dns_name
}

output "origin_domain" {
  description = "origin.<domain>, CloudFront's origin."
  value       = aws_route53_record.origin.fqdn
}

output "target_group_arn" {
  description = "API target group."
  value       = aws_lb_target_group.api.arn
}

output "target_group_arn_suffix" {
  description = "For CloudWatch metrics and request-count autoscaling (TargetGroup dimension)."
  value       = aws_lb_target_group.api.arn_suffix
}

output "security_group_id" {
  description = "The ALB's security group (the API tasks accept 8000 from it)."
  value       = aws_security_group.this.id
}

output "https_listener_arn" {
  description = "The HTTPS listener."
  value       = aws_lb_listener.https.arn
}
