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
