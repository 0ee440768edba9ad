output "identity_arn" {
  description = "The SES identity (the task role may send only from it)."
  value       = aws_sesv2_email_identity.this.arn
}

output "configuration_set_name" {
  description = "PULSE_SES_CONFIGURATION_SET."
  value       = aws_sesv2_configuration_set.this.configuration_set_name
}

output "configuration_set_arn" {
  description = "The configuration set's ARN."
  value       = aws_sesv2_configuration_set.this.arn
}

output "notifications_topic_arn" {
  description = "SNS topic with bounces and complaints (subscribe support's address or a handler)."
  value       = aws_sns_topic.notifications.arn
}
