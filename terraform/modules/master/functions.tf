################################################################################
# Lambda functions (modules/function): each with its own role, log group,
# dead-letter queue, asynchronous retries and error alarm
################################################################################

module "function" {
  source   = "../function"
  for_each = local.functions

  function_name                 = local.function_names[each.key]
  description                   = each.value.description
  zip                           = each.value.zip
  environment                   = each.value.environment
  policy_json                   = each.value.policy_json
  architecture                  = var.architecture
  memory_size                   = var.lambda_memory_size
  timeout                       = each.value.timeout
  reserved_concurrency          = lookup(var.reserved_concurrency, each.key, null)
  kms_key_arn                   = aws_kms_key.this.arn
  log_retention_days            = var.log_retention_days
  dlq_message_retention_seconds = var.dlq_message_retention_seconds
  async_max_retry_attempts      = var.async_max_retry_attempts
  async_max_event_age_seconds   = var.async_max_event_age_seconds
  alarm_actions                 = local.alarm_actions
  tags                          = var.tags
}

################################################################################
# HandleMonitoringEvents
################################################################################

# EventStore::record: GetItem (marker, event), UpdateItem (listed day) and a
# TransactWriteItems of two Puts and one Update (IAM checks each item action).
data "aws_iam_policy_document" "handle_monitoring_events" {
  statement {
    sid       = "RecordOccurrences"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.this.arn]
  }
}

################################################################################
# UpdateDeployment
################################################################################

# Agents: GetItem / conditional PutItem; config pushes: PutEvents on the
# agents' buses.
data "aws_iam_policy_document" "update_deployment" {
  statement {
    sid       = "TrackAgents"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.this.arn]
  }

  statement {
    sid       = "PushConfigsToAgents"
    actions   = ["events:PutEvents"]
    resources = local.agent_bus_arns
  }
}

################################################################################
# DailyReport
################################################################################

resource "aws_ses_email_identity" "sender" {
  count = var.create_sender_identity ? 1 : 0

  email = local.sender_address
}

# Day counters: Query gsi2, then BatchGetItem of the events; quiet agents:
# Query PK=AGENTS. Mail: SendRawEmail from the sender's identity (address or
# domain); in the SES sandbox the recipients are identities too.
data "aws_iam_policy_document" "daily_report" {
  statement {
    sid       = "ReadDayActivity"
    actions   = ["dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/gsi2"]
  }

  statement {
    sid     = "SendReport"
    actions = ["ses:SendRawEmail"]
    resources = distinct(concat(
      [
        "arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/${local.sender_address}",
        "arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/${local.sender_domain}",
      ],
      [for r in var.report_recipients : "arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/${trimspace(r)}"],
    ))
  }
}

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
  name               = "${var.name}-daily-report-schedule"
  description        = "Lets EventBridge Scheduler invoke ${local.function_names.daily_report} (and notify) and use its dead-letter queue"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "schedule" {
  statement {
    sid       = "InvokeDailyReportAndNotify"
    actions   = ["lambda:InvokeFunction"]
    resources = concat([module.function["daily_report"].arn], [for f in module.notify : f.arn])
  }

  statement {
    sid       = "SendToScheduleDeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq.arn]
  }

  statement {
    sid       = "UseModuleKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "schedule" {
  name   = "daily-report-schedule"
  role   = aws_iam_role.schedule.id
  policy = data.aws_iam_policy_document.schedule.json
}

resource "aws_scheduler_schedule" "daily_report" {
  name                         = "${var.name}-daily-report"
  description                  = "Runs DailyReport once a day"
  schedule_expression          = var.report_schedule_expression
  schedule_expression_timezone = var.report_time_zone
  kms_key_arn                  = aws_kms_key.this.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.function["daily_report"].arn
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

# Storm summaries are due when a window ends, whether or not a stream record
# arrives then, and an agent turns stale without any write: notify runs each
# minute with an empty payload to send the summaries and the agent alerts.
resource "aws_scheduler_schedule" "notify_summaries" {
  count                        = var.notify_zip == null ? 0 : 1
  name                         = "${var.name}-notify-summaries"
  description                  = "Runs notify each minute: storm summaries whose window ended, agent alerts"
  schedule_expression          = "rate(1 minute)"
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.this.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.notify[0].arn
    role_arn = aws_iam_role.schedule.arn
    input    = jsonencode({})

    retry_policy {
      maximum_event_age_in_seconds = 60
      maximum_retry_attempts       = 0
    }

    dead_letter_config {
      arn = aws_sqs_queue.schedule_dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.schedule]
}
