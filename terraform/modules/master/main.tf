data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  table_name                = var.name
  event_bus_name            = var.name
  cursor_key_parameter_name = "/${var.name}/api/cursor-key"

  # Envelope sources this system puts on the master bus (see
  # docs/architecture.md, bus events). Agents put their own envelopes on their
  # own regional default bus; a rule there forwards them, and the AWS events,
  # here (modules/agent), keeping the account and region EventBridge stamped.
  bus_sources = ["monitoring.agent.logs", "monitoring.agent", "aws.guardduty", "aws.health", "aws.cloudwatch"]

  # One Lambda function (modules/function) per entry: its name, which also
  # names its role, log group, dead-letter queue and alarm.
  function_names = {
    handle_monitoring_events = "${var.name}-handle-monitoring-events"
    update_deployment        = "${var.name}-update-deployment"
    daily_report             = "${var.name}-daily-report"
    list_events              = "${var.name}-api-list-events"
    get_event                = "${var.name}-api-get-event"
    update_event             = "${var.name}-api-update-event"
    list_agents              = "${var.name}-api-list-agents"
    get_agent                = "${var.name}-api-get-agent"
    update_agent             = "${var.name}-api-update-agent"
    event_activity           = "${var.name}-api-event-activity"
    overview                 = "${var.name}-api-overview"
    notify                   = "${var.name}-notify"
  }

  deliveries_table_name = "${var.name}-deliveries"

  # The alerts configuration the notify function reads: SSM parameter
  # names only, never a secret value.
  alert_channels_json = jsonencode({
    console_url = var.console_url
    storm       = var.alert_storm
    channels    = [for c in var.alert_channels : { for k, v in c : k => v if v != null }]
  })
  alert_secret_parameters = distinct(compact(flatten([
    for c in var.alert_channels : [c.url_parameter, c.secret_parameter]
  ])))
  alert_email_enabled = anytrue([for c in var.alert_channels : c.kind == "email"])
  alert_sns_topics    = distinct(compact([for c in var.alert_channels : c.topic_arn]))

  # The functions: what each runs, reads and may do (modules/function adds
  # its own logs, dead-letter queue and key). The API routes share a package
  # and an environment.
  api_environment = {
    TABLE_NAME             = aws_dynamodb_table.this.name
    RETENTION_DAYS         = tostring(var.retention_days)
    CURSOR_KEY_PARAMETER   = aws_ssm_parameter.cursor_key.name
    AGENT_BUS_ARN_TEMPLATE = var.agent_bus_arn_template
  }

  functions = {
    handle_monitoring_events = {
      description = "HandleMonitoringEvents: stores agent and forwarded AWS events in DynamoDB"
      zip         = var.handle_monitoring_events_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.handle_monitoring_events.json
      environment = {
        TABLE_NAME     = aws_dynamodb_table.this.name
        RETENTION_DAYS = tostring(var.retention_days)
      }
    }
    update_deployment = {
      description = "UpdateDeployment: records agent lifecycle events and pushes configs to agents"
      zip         = var.update_deployment_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.update_deployment.json
      environment = {
        TABLE_NAME             = aws_dynamodb_table.this.name
        RETENTION_DAYS         = tostring(var.retention_days)
        AGENT_BUS_ARN_TEMPLATE = var.agent_bus_arn_template
      }
    }
    daily_report = {
      description = "DailyReport: e-mails the previous UTC day's activity through SES"
      zip         = var.daily_report_zip
      timeout     = var.daily_report_timeout
      policy_json = data.aws_iam_policy_document.daily_report.json
      environment = {
        TABLE_NAME     = aws_dynamodb_table.this.name
        RETENTION_DAYS = tostring(var.retention_days)
        SENDER         = var.report_sender
        RECIPIENTS     = join(",", [for r in var.report_recipients : trimspace(r)])
        CONSOLE_URL    = var.console_url == null ? "" : var.console_url
      }
    }
    list_events = {
      description = "REST API route GET /events"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["list_events"].json
      environment = local.api_environment
    }
    get_event = {
      description = "REST API route GET /events/{eventId}"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["get_event"].json
      environment = local.api_environment
    }
    update_event = {
      description = "REST API route PUT /events/{eventId}"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["update_event"].json
      environment = local.api_environment
    }
    list_agents = {
      description = "REST API route GET /agents"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["list_agents"].json
      environment = local.api_environment
    }
    get_agent = {
      description = "REST API route GET /agents/{agentId}"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["get_agent"].json
      environment = local.api_environment
    }
    update_agent = {
      description = "REST API route PUT /agents/{agentId}"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["update_agent"].json
      environment = local.api_environment
    }
    event_activity = {
      description = "REST API route GET /events/{eventId}/activity"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["event_activity"].json
      environment = local.api_environment
    }
    overview = {
      description = "REST API route GET /overview"
      zip         = var.api_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.api["overview"].json
      environment = local.api_environment
    }
  }

  # Deployed only with a package: module.notify, count 0 or 1.
  notify_function = {
    notify = {
      description = "Notify: alerts from the events table's stream, once per channel"
      zip         = var.notify_zip
      timeout     = var.lambda_timeout
      policy_json = data.aws_iam_policy_document.notify.json
      environment = {
        DELIVERIES_TABLE = aws_dynamodb_table.deliveries.name
        ALERT_CHANNELS   = local.alert_channels_json
        ALERT_SENDER     = local.alert_email_enabled ? var.report_sender : ""
        # The agents, for the schedule's agent alerts (read only).
        TABLE_NAME = aws_dynamodb_table.this.name
      }
    }
  }

  # The rules on the master bus, each to one function.
  bus_rules = {
    monitoring_events = {
      name         = "monitoring-events"
      description  = "Agent log errors and forwarded GuardDuty, Health and alarm events to HandleMonitoringEvents"
      function     = "handle_monitoring_events"
      statement_id = "AllowMonitoringEventsRule"
      event_pattern = jsonencode({
        "$or" = [
          { source = ["monitoring.agent.logs"], "detail-type" = ["Log Errors Detected"] },
          { source = ["aws.guardduty"], "detail-type" = ["GuardDuty Finding"] },
          { source = ["aws.health"], "detail-type" = ["AWS Health Event"] },
          { source = ["aws.cloudwatch"], "detail-type" = ["CloudWatch Alarm State Change"] },
        ]
      })
    }
    agent_events = {
      name         = "agent-events"
      description  = "Agent lifecycle events to UpdateDeployment"
      function     = "update_deployment"
      statement_id = "AllowAgentEventsRule"
      event_pattern = jsonencode({
        source        = ["monitoring.agent"]
        "detail-type" = ["Agent Registered", "Agent Heartbeat", "Agent Config Applied"]
      })
    }
  }

  # The REST routes, each its own function of the api package.
  api_routes = {
    list_events  = { method = "GET", resource = "events", arn_path = "/events", description = "GET /events" }
    get_event    = { method = "GET", resource = "event", arn_path = "/events/*", description = "GET /events/{eventId}" }
    update_event = { method = "PUT", resource = "event", arn_path = "/events/*", description = "PUT /events/{eventId}" }
    list_agents  = { method = "GET", resource = "agents", arn_path = "/agents", description = "GET /agents" }
    get_agent    = { method = "GET", resource = "agent", arn_path = "/agents/*", description = "GET /agents/{agentId}" }
    update_agent = { method = "PUT", resource = "agent", arn_path = "/agents/*", description = "PUT /agents/{agentId}" }
    # The console's read-only routes: the event's day counters (GetItem +
    # Query of its partition) and a day's overview (Query gsi2, BatchGetItem,
    # Query of the agents): api_read covers both, they write nothing.
    event_activity = { method = "GET", resource = "event_activity", arn_path = "/events/*/activity", description = "GET /events/{eventId}/activity" }
    overview       = { method = "GET", resource = "overview", arn_path = "/overview", description = "GET /overview" }
  }

  # Path parameter of each API resource ("": none).
  api_path_parameters = {
    events         = ""
    event          = "eventId"
    event_activity = "eventId"
    agents         = ""
    agent          = "agentId"
    overview       = ""
  }

  api_resource_ids = {
    events         = aws_api_gateway_resource.events.id
    event          = aws_api_gateway_resource.event.id
    event_activity = aws_api_gateway_resource.event_activity.id
    agents         = aws_api_gateway_resource.agents.id
    agent          = aws_api_gateway_resource.agent.id
    overview       = aws_api_gateway_resource.overview.id
  }

  # report_sender may be "Name <address>": SES identities and IAM use the address.
  sender_address = trimspace(try(regex("<([^>]+)>", var.report_sender)[0], var.report_sender))
  sender_domain  = element(split("@", local.sender_address), 1)

  # Default buses of the agents, where configs are pushed (events:PutEvents).
  # With an organization the accounts are not known here: any account's bus,
  # the agent's own bus policy being what admits the master.
  agent_bus_arn_any_region = replace(var.agent_bus_arn_template, "{region}", "*")
  agent_bus_arns = distinct(concat(
    [for id in var.agent_account_ids : replace(local.agent_bus_arn_any_region, "{account}", id)],
    var.organization_id == null ? [] : [replace(local.agent_bus_arn_any_region, "{account}", "*")],
  ))

  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  dead_letter_queue_names = merge(
    {
      events         = aws_sqs_queue.events_dlq.name
      daily_schedule = aws_sqs_queue.schedule_dlq.name
    },
    { for k, f in module.function : "lambda_${k}" => f.dlq_name },
    { for f in module.notify : "lambda_notify" => f.dlq_name },
  )
}

################################################################################
# KMS key: table, queues, log groups, cursor-key parameter, Lambda environment,
# schedule input
################################################################################

resource "aws_kms_key" "this" {
  description             = "${var.name}: DynamoDB table, SQS dead-letter queues, CloudWatch log groups, SSM cursor key, Lambda environment"
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
        Sid       = "CloudWatchLogsEncryptsTheModuleLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = [
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name}-*",
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/apigateway/${var.name}-*",
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:API-Gateway-Execution-Logs_*",
            ]
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
# DynamoDB table (single-table design, see adapters/src/aws/dynamodb.rs)
################################################################################

resource "aws_dynamodb_table" "this" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "PK"
  range_key                   = "SK"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  attribute {
    name = "gsi1pk"
    type = "S"
  }

  attribute {
    name = "gsi1sk"
    type = "S"
  }

  attribute {
    name = "gsi2pk"
    type = "S"
  }

  attribute {
    name = "gsi2sk"
    type = "S"
  }

  # Events by the day of their newest activity.
  global_secondary_index {
    name            = "gsi1"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  # Day counters by day.
  global_secondary_index {
    name               = "gsi2"
    hash_key           = "gsi2pk"
    range_key          = "gsi2sk"
    projection_type    = "INCLUDE"
    non_key_attributes = ["count"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  # Every write of an event, before and after, for the notify function.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  tags = var.tags
}

# The notify function's per-channel deliveries and storm windows.
resource "aws_dynamodb_table" "deliveries" {
  name                        = local.deliveries_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "PK"
  range_key                   = "SK"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  tags = var.tags
}

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

################################################################################
# REST API: cursor key
################################################################################

resource "random_password" "cursor_key" {
  length  = 64
  special = false
}

# The key that signs list cursors. Its value lives in the state and in SSM;
# the functions get only the parameter's name.
resource "aws_ssm_parameter" "cursor_key" {
  name        = local.cursor_key_parameter_name
  description = "${var.name}: key that signs the REST API's list cursors"
  type        = "SecureString"
  key_id      = aws_kms_key.this.arn
  value       = random_password.cursor_key.result
  tags        = var.tags
}

################################################################################
# REST API: one function per route (module.function)
################################################################################

# Every route: read the table (and its indexes) and the cursor key.
data "aws_iam_policy_document" "api_read" {
  statement {
    sid       = "ReadEventsAndAgents"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"]
  }

  statement {
    sid       = "ReadCursorKey"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.cursor_key.arn]
  }
}

# PUT /events/{eventId}: conditional PutItem of the event, UpdateItem of its
# listed day.
data "aws_iam_policy_document" "api_update_event" {
  statement {
    sid       = "TriageEvents"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.this.arn]
  }
}

# PUT /agents/{agentId}: conditional PutItem of the agent, then the config
# push to the agent's bus.
data "aws_iam_policy_document" "api_update_agent" {
  statement {
    sid       = "ConfigureAgents"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.this.arn]
  }

  statement {
    sid       = "PushConfigsToAgents"
    actions   = ["events:PutEvents"]
    resources = local.agent_bus_arns
  }
}

# Each route's policy: read, and what its own writes need.
data "aws_iam_policy_document" "api" {
  for_each = local.api_routes

  source_policy_documents = concat(
    [data.aws_iam_policy_document.api_read.json],
    each.key == "update_event" ? [data.aws_iam_policy_document.api_update_event.json] : [],
    each.key == "update_agent" ? [data.aws_iam_policy_document.api_update_agent.json] : [],
  )
}

resource "aws_lambda_permission" "api" {
  for_each = local.api_routes

  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = module.function[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/${each.value.method}${each.value.arn_path}"
}

################################################################################
# REST API: API Gateway
################################################################################

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = "${var.name}: events and agents (IAM-authenticated)"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "events" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "events"
}

resource "aws_api_gateway_resource" "event" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.events.id
  path_part   = "{eventId}"
}

resource "aws_api_gateway_resource" "event_activity" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.event.id
  path_part   = "activity"
}

resource "aws_api_gateway_resource" "overview" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "overview"
}

resource "aws_api_gateway_resource" "agents" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "agents"
}

resource "aws_api_gateway_resource" "agent" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.agents.id
  path_part   = "{agentId}"
}

# Requires the declared path parameters; query parameters and bodies are
# validated by the function, which answers the API's own 400 errors.
resource "aws_api_gateway_request_validator" "this" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "parameters"
  validate_request_parameters = true
  validate_request_body       = false
}

resource "aws_api_gateway_method" "route" {
  for_each = local.api_routes

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = local.api_resource_ids[each.value.resource]
  http_method          = each.value.method
  authorization        = "AWS_IAM"
  request_validator_id = aws_api_gateway_request_validator.this.id

  request_parameters = {
    for p in compact([local.api_path_parameters[each.value.resource]]) : "method.request.path.${p}" => true
  }
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.api_routes

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.route[each.key].resource_id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = module.function[each.key].invoke_arn
}

# No OPTIONS (CORS preflight) methods: browsers do not sign preflights, so an
# AWS_IAM OPTIONS method always fails them, and the functions' answers carry no
# CORS headers, so even an open preflight would not let a page read them. The
# API is for SigV4 clients (CLI, SDKs, a signing proxy on the page's own
# origin); every method stays AWS_IAM.
resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "${var.name} REST API"

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.events,
      aws_api_gateway_resource.event,
      aws_api_gateway_resource.agents,
      aws_api_gateway_resource.agent,
      aws_api_gateway_resource.event_activity,
      aws_api_gateway_resource.overview,
      aws_api_gateway_request_validator.this,
      aws_api_gateway_method.route,
      aws_api_gateway_integration.route,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

# API Gateway writes execution logs to this group; created here so it has a
# retention and the module's key.
resource "aws_cloudwatch_log_group" "api_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.api_stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name}-access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120: caching stays off: every answer depends on the caller's IAM identity and must show the latest triage state
  #checkov:skip=CKV2_AWS_51: client certificates authenticate API Gateway to HTTP backends; every integration here is a Lambda proxy
  #checkov:skip=CKV2_AWS_29: every method requires SigV4 (AWS_IAM) and the stage is throttled; attach a WAF web ACL outside this module if your organisation requires one
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.api_stage_name
  description          = "${var.name} REST API"
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      requestTime    = "$context.requestTime"
      caller         = "$context.identity.caller"
      userArn        = "$context.identity.userArn"
      sourceIp       = "$context.identity.sourceIp"
      httpMethod     = "$context.httpMethod"
      resourcePath   = "$context.resourcePath"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latency        = "$context.responseLatency"
      errorMessage   = "$context.error.message"
    })
  }

  tags = var.tags

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.api_execution]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225: caching stays off: every answer depends on the caller's IAM identity and must show the latest triage state
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.api_logging_level
    data_trace_enabled     = false
    throttling_rate_limit  = var.api_throttle_rate_limit
    throttling_burst_limit = var.api_throttle_burst_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}

# The account-and-region setting that lets API Gateway write logs, which the
# stage's access and execution logs need (without it the stage fails to create:
# "CloudWatch Logs role ARN must be set in account settings to enable
# logging"). Created by default so a first apply works on a new account; it is
# a singleton per account and region, so it replaces any role set there before
# (create_api_gateway_account_role = false when another stack owns it).
data "aws_iam_policy_document" "api_gateway_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account_role ? 1 : 0

  name               = "${var.name}-api-gateway-cloudwatch-${local.region}"
  description        = "Lets API Gateway write execution and access logs in ${local.region}"
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume_role.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account_role ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.create_api_gateway_account_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  for_each = local.dead_letter_queue_names

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
