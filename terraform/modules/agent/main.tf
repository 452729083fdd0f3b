data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_cloudwatch_event_bus" "default" {
  name = "default"
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  agent_id   = "${local.account_id}-${local.region}"
  agent_name = coalesce(var.agent_name, local.agent_id)

  function_name = "${var.name}-query-error-logs"

  # What QueryErrorLogs reads (handlers::lambda::BINARIES).
  function_environment = {
    AGENT_ACCOUNT_ID = local.account_id
    AGENT_NAME       = local.agent_name
    STATE_PARAMETER  = aws_ssm_parameter.state.name
    LATENCY_SECONDS  = tostring(var.latency_seconds)
  }
  state_parameter_name = "/${var.name}/state"

  # IAM names are global: they carry the region (one agent per account and region).
  iam_suffix = local.region

  log_group_arn_prefix = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:"

  # Log groups the agent may query: each prefix with a trailing wildcard ("":
  # every group), each named group (with and without the :* IAM form).
  query_log_group_arns = distinct(concat(
    [for p in var.log_group_prefixes : "${local.log_group_arn_prefix}${p}*"],
    flatten([for g in var.log_groups : ["${local.log_group_arn_prefix}${g}", "${local.log_group_arn_prefix}${g}:*"]]),
  ))

  # The agent's first state: Terraform writes it once, the agent and the
  # master's config pushes own it afterwards (ignore_changes on the value).
  state_seed = jsonencode({
    config = {
      enabled            = var.enabled
      schedule_minutes   = var.schedule_minutes
      log_group_prefixes = var.log_group_prefixes
      log_groups         = var.log_groups
      exclude_patterns   = var.exclude_patterns
      rules              = var.rules
    }
    config_version = 0
  })

  schedule_expression = var.schedule_minutes == 1 ? "rate(1 minute)" : "rate(${var.schedule_minutes} minutes)"

  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  # What the default-bus rule forwards to the master bus: the agent's own
  # envelopes (which QueryErrorLogs puts on this account's default bus in this
  # region, so EventBridge stamps them with this account and region), and with
  # forward_aws_events the AWS events the master handles. Each entry names its
  # sources: the master's config pushes (monitoring.master) are never
  # forwarded back. The agent entries also require this account, so only what
  # this account itself put is forwarded.
  forward_agent_patterns = [
    { source = ["monitoring.agent.logs"], account = [local.account_id] },
    { source = ["monitoring.agent"], account = [local.account_id] },
  ]
  forward_aws_patterns = [
    { source = ["aws.guardduty"], "detail-type" = ["GuardDuty Finding"] },
    { source = ["aws.health"], "detail-type" = ["AWS Health Event"] },
    { source = ["aws.cloudwatch"], "detail-type" = ["CloudWatch Alarm State Change"] },
  ]
}

################################################################################
# KMS key: queues, log group, Lambda environment, schedule input
################################################################################

resource "aws_kms_key" "this" {
  description             = "${var.name}: SQS dead-letter queues, CloudWatch log group, Lambda environment"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheAgentLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "${local.log_group_arn_prefix}/aws/lambda/${var.name}-*"
          }
        }
      },
      {
        Sid       = "EventBridgeRulesSendToEncryptedDeadLetterQueue"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

################################################################################
# Agent state (checkpoint and config)
################################################################################

resource "aws_ssm_parameter" "state" {
  #checkov:skip=CKV2_AWS_34: holds the agent's checkpoint and non-secret config; the agent rewrites it as a String parameter (PutParameter Type=String)
  name        = local.state_parameter_name
  description = "${var.name}: checkpoint and configuration of agent ${local.agent_id}"
  type        = "String"
  tier        = "Intelligent-Tiering"
  value       = local.state_seed
  tags        = var.tags

  lifecycle {
    ignore_changes = [value]
  }
}

################################################################################
# Dead-letter queues
################################################################################

# Events the default-bus rules could not deliver (forwarding to the master
# bus, config pushes to the function).
resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = var.tags
}

data "aws_iam_policy_document" "events_dlq" {
  statement {
    sid       = "DefaultBusRulesSendUndeliveredEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.config_update.arn, aws_cloudwatch_event_rule.forward.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy    = data.aws_iam_policy_document.events_dlq.json
}

# Runs the schedule could not start (sent with the schedule's role).
resource "aws_sqs_queue" "schedule_dlq" {
  name                      = "${var.name}-schedule-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = var.tags
}

################################################################################
# QueryErrorLogs (modules/function)
################################################################################

# What QueryErrorLogs needs (modules/function adds its own logs, dead-letter
# queue and key).
data "aws_iam_policy_document" "lambda" {
  #checkov:skip=CKV_AWS_356: GetQueryResults/StopQuery name only a query id, so they get Resource "*"; StartQuery, which picks the log groups read, is scoped
  statement {
    sid       = "ListLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.log_group_arn_prefix}*"]
  }

  dynamic "statement" {
    for_each = length(local.query_log_group_arns) > 0 ? [local.query_log_group_arns] : []

    content {
      sid       = "QueryConfiguredLogGroups"
      actions   = ["logs:StartQuery"]
      resources = statement.value
    }
  }

  # Both calls carry only the id of a query this function started.
  statement {
    sid       = "FollowOwnQueries"
    actions   = ["logs:GetQueryResults", "logs:StopQuery"]
    resources = ["*"]
  }

  # The agent publishes to this account's default bus in this region only;
  # the forward rule takes its envelopes on to the master bus.
  statement {
    sid       = "PublishToOwnDefaultBus"
    actions   = ["events:PutEvents"]
    resources = [data.aws_cloudwatch_event_bus.default.arn]
  }

  statement {
    sid       = "ReadAndWriteOwnState"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = [aws_ssm_parameter.state.arn]
  }
}

module "query_error_logs" {
  source = "../function"

  function_name                 = local.function_name
  description                   = "QueryErrorLogs: finds errors in CloudWatch Logs and publishes them to the default bus (forwarded to the master bus)"
  zip                           = var.query_error_logs_zip
  environment                   = local.function_environment
  policy_json                   = data.aws_iam_policy_document.lambda.json
  role_name                     = "${local.function_name}-${local.iam_suffix}"
  architecture                  = var.architecture
  memory_size                   = var.memory_size
  timeout                       = var.timeout
  reserved_concurrency          = lookup(var.reserved_concurrency, "query_error_logs", null)
  kms_key_arn                   = aws_kms_key.this.arn
  log_retention_days            = var.log_retention_days
  dlq_message_retention_seconds = var.dlq_message_retention_seconds
  async_max_retry_attempts      = var.async_max_retry_attempts
  async_max_event_age_seconds   = var.async_max_event_age_seconds
  alarm_actions                 = local.alarm_actions
  tags                          = var.tags
}

# State addresses from before modules/function.
moved {
  from = aws_lambda_function.this
  to   = module.query_error_logs.aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda
  to   = module.query_error_logs.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda
  to   = module.query_error_logs.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda
  to   = module.query_error_logs.aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq
  to   = module.query_error_logs.aws_sqs_queue.dlq
}

moved {
  from = aws_lambda_function_event_invoke_config.this
  to   = module.query_error_logs.aws_lambda_function_event_invoke_config.this
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors
  to   = module.query_error_logs.aws_cloudwatch_metric_alarm.errors
}

################################################################################
# Schedule
################################################################################

data "aws_iam_policy_document" "scheduler_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "schedule" {
  name               = "${var.name}-schedule-${local.iam_suffix}"
  description        = "Lets EventBridge Scheduler invoke ${local.function_name} and use its dead-letter queue"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "schedule" {
  statement {
    sid       = "InvokeAgent"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.lifecycle_function_arn]
  }

  statement {
    sid       = "SendToScheduleDeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq.arn]
  }

  statement {
    sid       = "UseAgentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "schedule" {
  name   = "schedule"
  role   = aws_iam_role.schedule.id
  policy = data.aws_iam_policy_document.schedule.json
}

resource "aws_scheduler_schedule" "this" {
  name                = "${var.name}-query-error-logs"
  description         = "Runs QueryErrorLogs every ${var.schedule_minutes} minute(s)"
  schedule_expression = local.schedule_expression
  kms_key_arn         = aws_kms_key.this.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.lifecycle_function_arn
    role_arn = aws_iam_role.schedule.arn
    input    = jsonencode({})

    retry_policy {
      maximum_event_age_in_seconds = var.event_target_max_event_age_seconds
      maximum_retry_attempts       = var.event_target_max_retry_attempts
    }

    dead_letter_config {
      arn = aws_sqs_queue.schedule_dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.schedule]
}

################################################################################
# Forwarding from the default bus to the master bus: the agent's own envelopes
# (always) and AWS events (forward_aws_events)
################################################################################

resource "aws_cloudwatch_event_rule" "forward" {
  name        = "${var.name}-forward-to-master"
  description = var.forward_aws_events ? "The agent's envelopes, GuardDuty findings, AWS Health events and alarm state changes to the master bus" : "The agent's envelopes to the master bus"

  event_pattern = jsonencode({
    "$or" = concat(local.forward_agent_patterns, [for p in local.forward_aws_patterns : p if var.forward_aws_events])
  })

  tags = var.tags
}

data "aws_iam_policy_document" "events_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "forward" {
  name               = "${var.name}-forward-${local.iam_suffix}"
  description        = "Lets the default bus forward the agent's envelopes and AWS events to the master bus"
  assume_role_policy = data.aws_iam_policy_document.events_assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "forward" {
  statement {
    sid       = "PutOnMasterBus"
    actions   = ["events:PutEvents"]
    resources = [var.master_event_bus_arn]
  }
}

resource "aws_iam_role_policy" "forward" {
  name   = "forward-to-master"
  role   = aws_iam_role.forward.id
  policy = data.aws_iam_policy_document.forward.json
}

# A bus in another account and region is a valid target (with a role); the
# forwarded event keeps the account and region of the default bus it was
# first put on.
resource "aws_cloudwatch_event_target" "forward" {
  rule      = aws_cloudwatch_event_rule.forward.name
  target_id = "master-bus"
  arn       = var.master_event_bus_arn
  role_arn  = aws_iam_role.forward.arn

  retry_policy {
    maximum_event_age_in_seconds = var.event_target_max_event_age_seconds
    maximum_retry_attempts       = var.event_target_max_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

# The forwarding used to exist only with forward_aws_events (count = 1).
moved {
  from = aws_cloudwatch_event_rule.forward[0]
  to   = aws_cloudwatch_event_rule.forward
}

moved {
  from = aws_iam_role.forward[0]
  to   = aws_iam_role.forward
}

moved {
  from = aws_iam_role_policy.forward[0]
  to   = aws_iam_role_policy.forward
}

moved {
  from = aws_cloudwatch_event_target.forward[0]
  to   = aws_cloudwatch_event_target.forward
}

################################################################################
# Config pushes from the master (Agent Config Update on the default bus)
################################################################################

data "aws_iam_policy_document" "default_bus" {
  source_policy_documents = var.default_bus_policy_source_documents

  statement {
    sid       = "MasterPushesAgentConfig"
    actions   = ["events:PutEvents"]
    resources = [data.aws_cloudwatch_event_bus.default.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${var.master_account_id}:root"]
    }

    condition {
      test     = "StringEquals"
      variable = "events:source"
      values   = ["monitoring.master"]
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "default" {
  event_bus_name = data.aws_cloudwatch_event_bus.default.name
  policy         = data.aws_iam_policy_document.default_bus.json
}

resource "aws_cloudwatch_event_rule" "config_update" {
  name        = "${var.name}-config-update"
  description = "Agent Config Update events pushed by the master to QueryErrorLogs"

  event_pattern = jsonencode({
    source        = ["monitoring.master"]
    "detail-type" = ["Agent Config Update"]
    account       = [var.master_account_id]
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "config_update" {
  rule      = aws_cloudwatch_event_rule.config_update.name
  target_id = "query-error-logs"
  arn       = local.lifecycle_function_arn

  retry_policy {
    maximum_event_age_in_seconds = var.event_target_max_event_age_seconds
    maximum_retry_attempts       = var.event_target_max_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

resource "aws_lambda_permission" "config_update" {
  statement_id   = "AllowConfigUpdateRule"
  action         = "lambda:InvokeFunction"
  function_name  = local.lifecycle_function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.config_update.arn
  source_account = local.account_id
}

################################################################################
# Registration at apply time
################################################################################

resource "aws_lambda_invocation" "register" {
  count = var.register_on_apply ? 1 : 0

  function_name = local.lifecycle_function_name
  input         = jsonencode({ action = "register" })

  triggers = {
    source_code_hash = local.lifecycle_source_hash
    environment      = sha1(jsonencode(local.lifecycle_environment))
    config           = sha1(local.state_seed)
  }

  # Agent Registered goes out through the forward rule: it must exist first.
  depends_on = [
    module.query_error_logs,
    module.stream_error_logs,
    aws_cloudwatch_event_target.forward,
    aws_iam_role_policy.forward,
  ]
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  for_each = {
    events   = aws_sqs_queue.events_dlq.name
    schedule = aws_sqs_queue.schedule_dlq.name
    lambda   = module.query_error_logs.dlq_name
  }

  alarm_name          = "${each.value}-not-empty"
  alarm_description   = "Messages are waiting in the dead-letter queue ${each.value}: deliveries or invocations failed."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
