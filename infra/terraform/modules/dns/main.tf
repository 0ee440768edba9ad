# The Route53 zone and the ACM certificates (DNS-validated): one in the region for the ALB
# (<domain> and origin.<domain>), one in us-east-1 for CloudFront.
resource "aws_route53_zone" "this" {
  # checkov:skip=CKV2_AWS_38:DNSSEC needs the DS record at the registrar, a manual step (docs/deploy.md)
  # checkov:skip=CKV2_AWS_39:query logs would have to live in us-east-1; CloudFront and ALB logs cover traffic
  count = var.create_zone ? 1 : 0
  name  = var.zone_name
}

data "aws_route53_zone" "existing" {
  count = var.create_zone ? 0 : 1
  name  = var.zone_name
}

locals {
  zone_id = var.create_zone ? aws_route53_zone.this[0].zone_id : data.aws_route53_zone.existing[0].zone_id
}

resource "aws_acm_certificate" "regional" {
  domain_name               = var.domain
  subject_alternative_names = ["origin.${var.domain}"]
  validation_method         = "DNS"
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_acm_certificate" "cloudfront" {
  provider          = aws.us_east_1
  domain_name       = var.domain
  validation_method = "DNS"
  lifecycle {
    create_before_destroy = true
  }
}

# Keyed by domain name (known at plan time); both certificates of one domain share its record.
locals {
  validation_records = {
    for option in concat(
      tolist(aws_acm_certificate.regional.domain_validation_options),
      tolist(aws_acm_certificate.cloudfront.domain_validation_options),
    ) : option.domain_name => option...
  }
}

resource "aws_route53_record" "validation" {
  for_each        = local.validation_records
  zone_id         = local.zone_id
  name            = each.value[0].resource_record_name
  type            = each.value[0].resource_record_type
  records         = [each.value[0].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "regional" {
  certificate_arn         = aws_acm_certificate.regional.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}

resource "aws_acm_certificate_validation" "cloudfront" {
  provider                = aws.us_east_1
  certificate_arn         = aws_acm_certificate.cloudfront.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}
