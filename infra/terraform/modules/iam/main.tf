# GitHub Actions reach AWS through OIDC (no long-lived keys), with three roles whose trust is
# pinned to this repository: deploy (push to main), terraform plan (pull requests), terraform
# apply (the approved GitHub environment). ECS gets an execution role (pull, logs, secrets) and
# least-privilege task roles.
data "aws_caller_identity" "this" {}
data "aws_region" "this" {}

locals {
  account   = data.aws_caller_identity.this.account_id
  region    = data.aws_region.this.region
  oidc_host = "token.actions.githubusercontent.com"
  oidc_arn  = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:aws:iam::${local.account}:oidc-provider/${local.oidc_host}"
  services  = "arn:aws:ecs:${local.region}:${local.account}:service/${var.cluster_name}/*"
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_github_oidc_provider ? 1 : 0
  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "github_trust" {
  for_each = {
    deploy = "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"
    plan   = "repo:${var.github_repository}:pull_request"
    apply  = "repo:${var.github_repository}:environment:${var.apply_environment}"
  }
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "github" {
  for_each             = data.aws_iam_policy_document.github_trust
  name                 = "${var.name}-github-${each.key}"
  assume_role_policy   = each.value.json
  max_session_duration = 3600
}

# --- deploy: push the image, run migrations, roll the services ---
data "aws_iam_policy_document" "deploy" {
  # checkov:skip=CKV_AWS_111:the only "*" resources are ecr:GetAuthorizationToken and Register/DescribeTaskDefinition, which take no resource ARN
  # checkov:skip=CKV_AWS_356:same: those actions (and application-autoscaling's target calls) have no resource-level permissions
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the action has no resource-level permissions
  }
  statement {
    sid = "EcrPush"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
      "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }
  statement {
    sid       = "TaskDefinitions"
    actions   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
    resources = ["*"] # RegisterTaskDefinition/DescribeTaskDefinition have no resource-level permissions
  }
  statement {
    sid       = "Services"
    actions   = ["ecs:DescribeServices", "ecs:UpdateService"]
    resources = [local.services]
  }
  statement {
    sid       = "MoveWorkerCapacity"
    actions   = ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:DescribeScalableTargets"]
    resources = ["*"] # scalable targets are addressed by service namespace + resource id, not ARN
  }
  statement {
    sid       = "Migrations"
    actions   = ["ecs:RunTask", "ecs:DescribeTasks"]
    resources = ["arn:aws:ecs:${local.region}:${local.account}:task-definition/${var.name}-*", "arn:aws:ecs:${local.region}:${local.account}:task/${var.cluster_name}/*"]
  }
  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.task["api"].arn, aws_iam_role.task["worker"].arn, aws_iam_role.task["exporter"].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "MigrationLogs"
    actions   = ["logs:GetLogEvents"]
    resources = ["arn:aws:logs:${local.region}:${local.account}:log-group:/pulse/${var.name}/*"]
  }
  statement {
    sid       = "TemporalApiKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.temporal_api_key_secret_arn]
  }
  statement {
    sid       = "InvalidateStatic"
    actions   = ["cloudfront:CreateInvalidation"]
    resources = [var.cdn_distribution_arn]
  }
  statement {
    sid       = "DecryptSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy"
  role   = aws_iam_role.github["deploy"].id
  policy = data.aws_iam_policy_document.deploy.json
}

# --- terraform plan: read everything, lock the state ---
resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.github["plan"].name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "StateRead"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [var.state_bucket_arn, "${var.state_bucket_arn}/*"]
  }
  statement {
    sid       = "StateLock"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.state_bucket_arn}/*.tflock"]
  }
  statement {
    sid       = "StateDecrypt"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "plan_state" {
  name   = "terraform-state"
  role   = aws_iam_role.github["plan"].id
  policy = data.aws_iam_policy_document.state.json
}

# --- terraform apply: behind the GitHub environment's required reviewers ---
resource "aws_iam_role_policy_attachment" "apply_admin" {
  # checkov:skip=CKV_AWS_274:Terraform creates IAM, KMS, VPC… for the whole stack; only the approved environment assumes it
  role       = aws_iam_role.github["apply"].name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

# --- ECS ---
data "aws_iam_policy_document" "ecs_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_trust.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    sid       = "ReadPulseSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }
  statement {
    sid       = "Decrypt"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "pulse-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

resource "aws_iam_role" "task" {
  for_each           = toset(["api", "worker", "exporter"])
  name               = "${var.name}-task-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ecs_trust.json
}

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "Assets"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for prefix in var.assets_prefixes : "${var.assets_bucket_arn}/${prefix}"]
  }
  statement {
    sid       = "Quarantine"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for prefix in var.quarantine_prefixes : "${var.quarantine_bucket_arn}/${prefix}"]
  }
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.assets_bucket_arn, var.quarantine_bucket_arn]
  }
  statement {
    sid       = "ObjectKeys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "SendEmail"
    actions   = ["ses:SendEmail", "ses:SendRawEmail"]
    resources = [var.ses_identity_arn, var.ses_configuration_set_arn]
  }
}

# The CloudWatch agent beside the background worker writes the scraped /metrics as EMF logs.
data "aws_iam_policy_document" "metrics_sidecar" {
  statement {
    sid       = "PrometheusEmf"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["arn:aws:logs:${local.region}:${local.account}:log-group:/aws/ecs/containerinsights/${var.cluster_name}/prometheus*"]
  }
}

resource "aws_iam_role_policy" "metrics_sidecar" {
  name   = "prometheus-emf"
  role   = aws_iam_role.task["worker"].id
  policy = data.aws_iam_policy_document.metrics_sidecar.json
}

resource "aws_iam_role_policy" "app" {
  for_each = toset(["api", "worker"])
  name     = "pulse-app"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.app.json
}

data "aws_iam_policy_document" "exporter" {
  # checkov:skip=CKV_AWS_356:cloudwatch:PutMetricData takes no resource ARN; the namespace condition limits it
  statement {
    sid       = "PublishBacklog"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; limited by namespace below
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Pulse/Temporal"]
    }
  }
}

resource "aws_iam_role_policy" "exporter" {
  name   = "publish-backlog"
  role   = aws_iam_role.task["exporter"].id
  policy = data.aws_iam_policy_document.exporter.json
}
