################################################################################
# Real-time mode (mode = "realtime" or "both"): a CloudWatch Logs
# subscription delivers error-looking log events to StreamErrorLogs within
# seconds. Account-wide through the account's subscription filter policy
# (subscription = "account"), or per log group (subscription = "log_groups")
# for accounts whose one account-level policy is already in use.
################################################################################

locals {
  realtime = var.mode != "scheduled"

  stream_function_name = "${var.name}-stream-error-logs"

  # What StreamErrorLogs reads (handlers::lambda::BINARIES).
  stream_environment = {
    AGENT_ACCOUNT_ID = local.account_id
    AGENT_NAME       = local.agent_name
    STATE_PARAMETER  = aws_ssm_parameter.state.name
    AGENT_MODE       = var.mode == "both" ? "both" : "realtime"
    LATENCY_SECONDS  = tostring(var.latency_seconds)
  }

  # The agent's own log groups and the caller's list are never subscribed:
  # an error the agent logs about a batch must not come back as a batch.
  subscription_excluded_log_groups = distinct(concat(
    ["/aws/lambda/${local.function_name}", "/aws/lambda/${local.stream_function_name}"],
    var.subscription_excluded_log_groups,
  ))

  # In realtime mode StreamErrorLogs is also the lifecycle function: the
  # schedule (heartbeats), the master's config pushes and the registration
  # invoke it. Otherwise QueryErrorLogs keeps them.
  lifecycle_function_arn  = var.mode == "realtime" ? module.stream_error_logs[0].arn : module.query_error_logs.arn
  lifecycle_function_name = var.mode == "realtime" ? module.stream_error_logs[0].function_name : module.query_error_logs.function_name
  lifecycle_source_hash   = var.mode == "realtime" ? module.stream_error_logs[0].source_code_hash : module.query_error_logs.source_code_hash
  lifecycle_environment   = var.mode == "realtime" ? local.stream_environment : local.function_environment
}

# What StreamErrorLogs needs: publish to this account's default bus, read
# (and, as the lifecycle function, write) the agent's state. No Logs
# Insights: the records come to it.
data "aws_iam_policy_document" "stream" {
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

module "stream_error_logs" {
  source = "../function"
  count  = local.realtime ? 1 : 0

  function_name                 = local.stream_function_name
  description                   = "StreamErrorLogs: classifies the error log events of the account's subscription and publishes them to the default bus (forwarded to the master bus)"
  zip                           = var.stream_error_logs_zip
  environment                   = local.stream_environment
  policy_json                   = data.aws_iam_policy_document.stream.json
  role_name                     = "${local.stream_function_name}-${local.iam_suffix}"
  architecture                  = var.architecture
  memory_size                   = var.stream_memory_size
  timeout                       = var.stream_timeout
  reserved_concurrency          = lookup(var.reserved_concurrency, "stream_error_logs", null)
  kms_key_arn                   = aws_kms_key.this.arn
  log_retention_days            = var.log_retention_days
  dlq_message_retention_seconds = var.dlq_message_retention_seconds
  async_max_retry_attempts      = var.async_max_retry_attempts
  async_max_event_age_seconds   = var.async_max_event_age_seconds
  alarm_actions                 = local.alarm_actions
  tags                          = var.tags
}

# CloudWatch Logs invokes the function asynchronously, from this account only.
resource "aws_lambda_permission" "logs" {
  count = local.realtime ? 1 : 0

  statement_id   = "AllowCloudWatchLogsSubscription"
  action         = "lambda:InvokeFunction"
  function_name  = module.stream_error_logs[0].function_name
  principal      = "logs.amazonaws.com"
  source_arn     = "${local.log_group_arn_prefix}*"
  source_account = local.account_id
}

resource "aws_cloudwatch_log_account_policy" "errors" {
  count = local.realtime && var.subscription == "account" ? 1 : 0

  policy_name = "${var.name}-errors"
  policy_type = "SUBSCRIPTION_FILTER_POLICY"
  policy_document = jsonencode({
    DestinationArn = module.stream_error_logs[0].arn
    FilterPattern  = var.subscription_filter_pattern
    Distribution   = "Random"
  })
  selection_criteria = "LogGroupName NOT IN [${join(", ", [for g in local.subscription_excluded_log_groups : jsonencode(g)])}]"

  depends_on = [aws_lambda_permission.logs]
}

resource "aws_cloudwatch_log_subscription_filter" "errors" {
  for_each = local.realtime && var.subscription == "log_groups" ? toset(var.subscription_log_groups) : toset([])

  name            = "${var.name}-errors"
  log_group_name  = each.value
  filter_pattern  = var.subscription_filter_pattern
  destination_arn = module.stream_error_logs[0].arn
  distribution    = "Random"

  depends_on = [aws_lambda_permission.logs]
}

resource "aws_cloudwatch_metric_alarm" "stream_dlq_not_empty" {
  count = local.realtime ? 1 : 0

  alarm_name          = "${module.stream_error_logs[0].dlq_name}-not-empty"
  alarm_description   = "Subscription batches StreamErrorLogs could not publish wait in ${module.stream_error_logs[0].dlq_name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = module.stream_error_logs[0].dlq_name }
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
