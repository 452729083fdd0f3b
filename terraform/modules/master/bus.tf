################################################################################
# Event bus and its policy
################################################################################

resource "aws_cloudwatch_event_bus" "this" {
  name = local.event_bus_name
  tags = var.tags
}

data "aws_iam_policy_document" "event_bus" {
  dynamic "statement" {
    for_each = length(var.agent_account_ids) > 0 ? [var.agent_account_ids] : []

    content {
      sid       = "AgentAccountsPutMonitoringEvents"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.this.arn]

      principals {
        type        = "AWS"
        identifiers = [for id in statement.value : "arn:${local.partition}:iam::${id}:root"]
      }

      condition {
        test     = "StringEquals"
        variable = "events:source"
        values   = local.bus_sources
      }
    }
  }

  dynamic "statement" {
    for_each = var.organization_id == null ? [] : [var.organization_id]

    content {
      sid       = "OrganizationPutsMonitoringEvents"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.this.arn]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [statement.value]
      }

      condition {
        test     = "StringEquals"
        variable = "events:source"
        values   = local.bus_sources
      }
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "this" {
  event_bus_name = aws_cloudwatch_event_bus.this.name
  policy         = data.aws_iam_policy_document.event_bus.json

  lifecycle {
    precondition {
      condition     = length(var.agent_account_ids) > 0 || var.organization_id != null
      error_message = "Set agent_account_ids, organization_id or both: nobody could publish to the master bus otherwise."
    }
  }
}

################################################################################
# Rules on the master bus: each sends its events to one function
################################################################################

resource "aws_cloudwatch_event_rule" "bus" {
  for_each = local.bus_rules

  name           = "${var.name}-${each.value.name}"
  description    = each.value.description
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = each.value.event_pattern
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "bus" {
  for_each = local.bus_rules

  rule           = aws_cloudwatch_event_rule.bus[each.key].name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = replace(each.value.function, "_", "-")
  arn            = module.function[each.value.function].arn

  retry_policy {
    maximum_event_age_in_seconds = var.event_target_max_event_age_seconds
    maximum_retry_attempts       = var.event_target_max_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

resource "aws_lambda_permission" "bus" {
  for_each = local.bus_rules

  statement_id   = each.value.statement_id
  action         = "lambda:InvokeFunction"
  function_name  = module.function[each.value.function].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.bus[each.key].arn
  source_account = local.account_id
}

################################################################################
# Dead-letter queues
################################################################################

# Events the master bus rules could not deliver.
resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = var.tags
}

data "aws_iam_policy_document" "events_dlq" {
  statement {
    sid       = "MasterBusRulesSendUndeliveredEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for r in aws_cloudwatch_event_rule.bus : r.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy    = data.aws_iam_policy_document.events_dlq.json
}

# Daily-report invocations the schedule could not deliver (sent with the
# schedule's role).
resource "aws_sqs_queue" "schedule_dlq" {
  name                      = "${var.name}-daily-report-schedule-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = var.tags
}
