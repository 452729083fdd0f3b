################################################################################
# Notify: the events table's stream into alerts
################################################################################

# The notify function, with a package only (a separate call with count: a
# for_each over `null ? {} : {notify = ...}` would not type-check).
module "notify" {
  source = "../function"
  count  = var.notify_zip == null ? 0 : 1

  function_name                 = local.function_names.notify
  description                   = local.notify_function.notify.description
  zip                           = local.notify_function.notify.zip
  environment                   = local.notify_function.notify.environment
  policy_json                   = local.notify_function.notify.policy_json
  architecture                  = var.architecture
  memory_size                   = var.lambda_memory_size
  timeout                       = local.notify_function.notify.timeout
  reserved_concurrency          = lookup(var.reserved_concurrency, "notify", null)
  kms_key_arn                   = aws_kms_key.this.arn
  log_retention_days            = var.log_retention_days
  dlq_message_retention_seconds = var.dlq_message_retention_seconds
  async_max_retry_attempts      = var.async_max_retry_attempts
  async_max_event_age_seconds   = var.async_max_event_age_seconds
  alarm_actions                 = local.alarm_actions
  tags                          = var.tags
}

# Stream records in batches; a failed record is reported alone
# (ReportBatchItemFailures), retried, bisected, then sent to the function's
# dead-letter queue.
resource "aws_lambda_event_source_mapping" "notify" {
  count = var.notify_zip == null ? 0 : 1

  function_name                      = module.notify[0].arn
  event_source_arn                   = aws_dynamodb_table.this.stream_arn
  starting_position                  = "LATEST"
  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = var.notify_max_retry_attempts
  maximum_record_age_in_seconds      = 86400

  # Only event items (not occurrences, day counters or agents).
  filter_criteria {
    filter {
      pattern = jsonencode({ dynamodb = { Keys = { SK = { S = ["EVENT"] } } } })
    }
  }

  destination_config {
    on_failure {
      destination_arn = module.notify[0].dlq_arn
    }
  }
}

data "aws_iam_policy_document" "notify" {
  statement {
    sid       = "ReadTheEventsStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
    resources = [aws_dynamodb_table.this.stream_arn]
  }

  # The schedule's agent alerts read the agents UpdateDeployment keeps.
  statement {
    sid       = "ReadTheAgents"
    actions   = ["dynamodb:Query"]
    resources = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"]
  }

  statement {
    sid       = "RecordDeliveries"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.deliveries.arn]
  }

  statement {
    sid       = "UseTheTablesKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }

  dynamic "statement" {
    for_each = length(local.alert_secret_parameters) > 0 ? [1] : []
    content {
      sid       = "ReadChannelSecrets"
      actions   = ["ssm:GetParameters"]
      resources = [for p in local.alert_secret_parameters : "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(p, "/")}"]
    }
  }

  dynamic "statement" {
    for_each = length(local.alert_secret_parameters) > 0 ? [1] : []
    content {
      sid       = "DecryptChannelSecrets"
      actions   = ["kms:Decrypt"]
      resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.alert_email_enabled ? [1] : []
    content {
      sid       = "SendEmailAlerts"
      actions   = ["ses:SendRawEmail"]
      resources = ["arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.alert_sns_topics) > 0 ? [1] : []
    content {
      sid       = "PublishSnsAlerts"
      actions   = ["sns:Publish"]
      resources = local.alert_sns_topics
    }
  }
}
