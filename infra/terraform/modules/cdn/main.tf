# CloudFront in front of the ALB (origin.<domain>): /static/* (CSS, ES modules, fonts) is cached
# at the edge; everything else (API, pages, SSE streams) passes through uncached with the
# viewer's headers, cookies and query.
locals {
  # AWS managed policies (ids are fixed across accounts)
  caching_optimized       = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  caching_disabled        = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  all_viewer_except_host  = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
}

# HSTS, nosniff, frame denial and a strict referrer on every response (the app sets its own CSP).
resource "aws_cloudfront_response_headers_policy" "security" {
  name = "${var.name}-security-headers"
  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
    xss_protection {
      protection = true
      mode_block = true
      override   = true
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  # checkov:skip=CKV_AWS_68:the WAF sits on the ALB (module alb), which every request reaches
  # checkov:skip=CKV_AWS_86:standard logs need an ACL-enabled bucket; ALB access logs record every request
  # checkov:skip=CKV_AWS_310:one origin (the ALB across three AZs); there is no second origin to fail over to
  # checkov:skip=CKV_AWS_374:the studio serves every country (no geo restriction by design)
  # checkov:skip=CKV_AWS_305:the origin is the app, which serves "/" itself (no S3 index object)
  # checkov:skip=CKV2_AWS_47:the ALB's WAF includes AWSManagedRulesKnownBadInputsRuleSet (Log4j)
  enabled         = true
  is_ipv6_enabled = true
  comment         = "${var.name}: studio"
  aliases         = [var.domain]
  price_class     = var.price_class
  http_version    = "http2and3"

  origin {
    origin_id   = "alb"
    domain_name = var.origin_domain
    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 60
      origin_keepalive_timeout = 60
    }
  }

  default_cache_behavior {
    target_origin_id           = "alb"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled
    origin_request_policy_id   = local.all_viewer_except_host
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    compress                   = false # SSE streams must not be buffered for compression
  }

  ordered_cache_behavior {
    path_pattern               = "/static/*"
    target_origin_id           = "alb"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    compress                   = true
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}

resource "aws_route53_record" "alias" {
  for_each = toset(["A", "AAAA"])
  zone_id  = var.zone_id
  name     = var.domain
  type     = each.key
  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}
