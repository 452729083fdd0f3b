################################################################################
# Naming and tagging
################################################################################

variable "name" {
  description = "Name of this deployment: the event bus, the DynamoDB table and the prefix of every other resource (Lambda functions, roles, queues, log groups, API)."
  type        = string
  default     = "monitoring"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,23}$", var.name)) && var.name != "default"
    error_message = "name must start with a letter and hold 1-24 letters, digits or hyphens (IAM role names built from it stay within 64 characters)."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

################################################################################
# Who may publish to the master bus
################################################################################

variable "agent_account_ids" {
  description = "Monitored (agent) accounts allowed to put events on the master bus and to receive config pushes. Set this, organization_id, or both."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.agent_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Every agent account id must be 12 digits."
  }
}

variable "organization_id" {
  description = "AWS Organization id (o-xxxxxxxxxx) whose accounts may put events on the master bus (aws:PrincipalOrgID condition). Null: only agent_account_ids."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must look like o-xxxxxxxxxx."
  }
}

variable "agent_bus_arn_template" {
  description = "Event bus the master pushes agent configs to (AGENT_BUS_ARN_TEMPLATE); {region} and {account} are replaced by the agent's. IAM for events:PutEvents is derived from it."
  type        = string
  default     = "arn:aws:events:{region}:{account}:event-bus/default"

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:", var.agent_bus_arn_template)) && strcontains(var.agent_bus_arn_template, "{account}")
    error_message = "agent_bus_arn_template must be an event bus ARN that contains {account}."
  }
}

################################################################################
# Lambda packages and settings
################################################################################

variable "handle_monitoring_events_zip" {
  description = "Path of the handle-monitoring-events package (ops/build writes target/lambda/handle-monitoring-events/bootstrap.zip)."
  type        = string
}

variable "update_deployment_zip" {
  description = "Path of the update-deployment package (target/lambda/update-deployment/bootstrap.zip)."
  type        = string
}

variable "daily_report_zip" {
  description = "Path of the daily-report package (target/lambda/daily-report/bootstrap.zip)."
  type        = string
}

variable "api_zip" {
  description = "Path of the api package (target/lambda/api/bootstrap.zip), deployed once per REST route."
  type        = string
}

variable "architecture" {
  description = "Instruction set of every Lambda function; must match the build target of the packages."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "lambda_memory_size" {
  description = "Memory (MB) of every Lambda function."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240
    error_message = "lambda_memory_size must be between 128 and 10240."
  }
}

variable "lambda_timeout" {
  description = "Timeout (seconds) of handle-monitoring-events, update-deployment and the API functions (API Gateway itself answers 504 after 29 s)."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 900
    error_message = "lambda_timeout must be between 1 and 900."
  }
}

variable "daily_report_timeout" {
  description = "Timeout (seconds) of the daily-report function."
  type        = number
  default     = 300

  validation {
    condition     = var.daily_report_timeout >= 1 && var.daily_report_timeout <= 900
    error_message = "daily_report_timeout must be between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions by function (keys: handle_monitoring_events, update_deployment, daily_report, list_events, get_event, update_event, list_agents, get_agent, update_agent, event_activity, overview, notify), e.g. { handle_monitoring_events = 10 }. A function not listed is unreserved (the default for all: new accounts often have a concurrency quota of 10 and Lambda keeps 100 unreserved, so any reservation fails there). A reservation is also the function's upper bound; 0 stops it."
  type        = map(number)
  default     = {}

  validation {
    condition = alltrue([
      for k in keys(var.reserved_concurrency) : contains([
        "handle_monitoring_events", "update_deployment", "daily_report",
        "list_events", "get_event", "update_event", "list_agents", "get_agent", "update_agent",
        "event_activity", "overview", "notify",
      ], k)
    ])
    error_message = "reserved_concurrency keys must be function keys: handle_monitoring_events, update_deployment, daily_report, list_events, get_event, update_event, list_agents, get_agent, update_agent, event_activity, overview, notify."
  }

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v >= 0 && floor(v) == v])
    error_message = "reserved_concurrency values must be whole numbers of at least 0."
  }
}

variable "async_max_retry_attempts" {
  description = "Retries Lambda makes of a failed asynchronous invocation (rules, schedule) before it goes to the function's dead-letter queue."
  type        = number
  default     = 2

  validation {
    condition     = var.async_max_retry_attempts >= 0 && var.async_max_retry_attempts <= 2
    error_message = "async_max_retry_attempts must be between 0 and 2."
  }
}

variable "async_max_event_age_seconds" {
  description = "Oldest asynchronous invocation (seconds) Lambda still runs before sending it to the function's dead-letter queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.async_max_event_age_seconds >= 60 && var.async_max_event_age_seconds <= 21600
    error_message = "async_max_event_age_seconds must be between 60 and 21600."
  }
}

variable "event_target_max_retry_attempts" {
  description = "Retries EventBridge (rules and schedule) makes of a failed delivery before it goes to the target's dead-letter queue."
  type        = number
  default     = 185

  validation {
    condition     = var.event_target_max_retry_attempts >= 0 && var.event_target_max_retry_attempts <= 185
    error_message = "event_target_max_retry_attempts must be between 0 and 185."
  }
}

variable "event_target_max_event_age_seconds" {
  description = "Oldest event (seconds) EventBridge still tries to deliver before it goes to the target's dead-letter queue."
  type        = number
  default     = 86400

  validation {
    condition     = var.event_target_max_event_age_seconds >= 60 && var.event_target_max_event_age_seconds <= 86400
    error_message = "event_target_max_event_age_seconds must be between 60 and 86400."
  }
}

################################################################################
# Storage
################################################################################

variable "retention_days" {
  description = "Days an event is kept after its last occurrence (RETENTION_DAYS; DynamoDB TTL deletes it some time after)."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 1 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of at least 1."
  }
}

variable "deletion_protection" {
  description = "Deletion protection of the DynamoDB table (turn off before destroying the deployment)."
  type        = bool
  default     = true
}

################################################################################
# Daily report
################################################################################

variable "report_sender" {
  description = "SES-verified address the daily report is sent from (SENDER), e.g. monitoring@example.com or \"Monitoring <monitoring@example.com>\"."
  type        = string

  validation {
    condition     = can(regex("^[^@<>\\s]+@[^@<>\\s]+$", trimspace(try(regex("<([^>]+)>", var.report_sender)[0], var.report_sender))))
    error_message = "report_sender must be an e-mail address, optionally as \"Name <address>\"."
  }
}

variable "report_recipients" {
  description = "Addresses the daily report is sent to (RECIPIENTS). While the SES account is in the sandbox, each must be a verified identity."
  type        = list(string)

  validation {
    condition     = length(var.report_recipients) > 0 && alltrue([for r in var.report_recipients : can(regex("^[^@,\\s]+@[^@,\\s]+$", r))])
    error_message = "report_recipients must hold at least one e-mail address (no commas)."
  }
}

variable "create_sender_identity" {
  description = "Create the SES e-mail identity of report_sender (SES then mails a verification link to it). False: the address or its domain is already verified."
  type        = bool
  default     = false
}

variable "report_schedule_expression" {
  description = "When DailyReport runs (EventBridge Scheduler expression, in report_time_zone). The report covers the previous UTC day."
  type        = string
  default     = "cron(0 6 * * ? *)"

  validation {
    condition     = can(regex("^(cron|rate|at)\\(.+\\)$", var.report_schedule_expression))
    error_message = "report_schedule_expression must be a cron(...), rate(...) or at(...) expression."
  }
}

variable "report_time_zone" {
  description = "IANA time zone of report_schedule_expression (schedule_expression_timezone), e.g. Europe/Paris."
  type        = string
  default     = "UTC"
}

################################################################################
# REST API
################################################################################

variable "api_stage_name" {
  description = "Name of the API Gateway stage (the last part of api_url)."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_]{1,64}$", var.api_stage_name))
    error_message = "api_stage_name must hold 1-64 letters, digits or underscores."
  }
}

variable "api_throttle_rate_limit" {
  description = "Steady-state requests per second the API stage accepts (all methods)."
  type        = number
  default     = 50
}

variable "api_throttle_burst_limit" {
  description = "Burst of requests the API stage accepts (all methods)."
  type        = number
  default     = 100
}

variable "api_logging_level" {
  description = "API Gateway execution logging level (OFF, ERROR or INFO), in a log group this module creates with retention and KMS."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.api_logging_level)
    error_message = "api_logging_level must be OFF, ERROR or INFO."
  }
}

variable "create_api_gateway_account_role" {
  description = "Create the regional API Gateway account setting (aws_api_gateway_account) with a role that lets API Gateway write to CloudWatch Logs, which the stage's access and execution logs need. It is one setting per account and region: creating it replaces any role already set there, and destroying the module leaves the setting pointing at the deleted role. Set false when another stack manages that setting (the region must then already have one)."
  type        = bool
  default     = true
}

################################################################################
# Logs, queues, keys and alarms
################################################################################

variable "log_retention_days" {
  description = "Retention (days) of the Lambda and API Gateway log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long (seconds) the dead-letter queues keep a message."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period (days) before the module's KMS key is deleted after a destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be between 7 and 30."
  }
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the alarms (dead-letter queue not empty, function errors). Null: alarms without actions."
  type        = string
  default     = null
}

variable "notify_zip" {
  description = "Path of the notify package (target/lambda/notify/bootstrap.zip); null: no real-time alerts (no notify function)."
  type        = string
  default     = null
}

variable "alert_channels" {
  description = "Real-time alert channels. Secrets are never given here: Slack URLs and webhook secrets are the names of SSM SecureString parameters (url_parameter, secret_parameter)."
  type = list(object({
    name             = string
    kind             = string
    url              = optional(string)
    url_parameter    = optional(string)
    secret_parameter = optional(string)
    to               = optional(list(string))
    topic_arn        = optional(string)
    min_severity     = optional(string)
    transitions      = optional(list(string))
    accounts         = optional(list(string))
    sources          = optional(list(string))
  }))
  default = []

  validation {
    condition     = alltrue([for c in var.alert_channels : contains(["slack", "webhook", "email", "sns"], c.kind)])
    error_message = "alert_channels[*].kind must be slack, webhook, email or sns."
  }

  validation {
    condition     = alltrue([for c in var.alert_channels : c.kind != "slack" || (c.url == null && c.url_parameter != null)])
    error_message = "A slack channel takes url_parameter (an SSM SecureString name), never url."
  }

  validation {
    condition     = alltrue([for c in var.alert_channels : c.kind != "webhook" || c.secret_parameter != null])
    error_message = "A webhook channel takes secret_parameter (an SSM SecureString name)."
  }
}

variable "alert_storm" {
  description = "Storm control of every alert channel: at most max_per_window alerts per window_seconds, then one summary."
  type = object({
    max_per_window = optional(number, 10)
    window_seconds = optional(number, 300)
  })
  default = {}
}

variable "console_url" {
  description = "Base URL of the console (e.g. https://console.example.com/console): alerts and the daily report (CONSOLE_URL) link each event to <console_url>/events/<id>. null: no links."
  type        = string
  default     = null

  validation {
    condition     = var.console_url == null || can(regex("^https?://[^/\\s?#\"<>`\\\\][^\\s?#\"<>`\\\\]*$", var.console_url))
    error_message = "console_url must be an http(s) URL without spaces, query or fragment."
  }
}

variable "notify_max_retry_attempts" {
  description = "Retries of a failed stream record before it goes to the notify function's dead-letter queue."
  type        = number
  default     = 5
}
