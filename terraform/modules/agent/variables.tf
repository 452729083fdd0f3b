################################################################################
# Naming and tagging
################################################################################

variable "name" {
  description = "Prefix of every resource of the agent (function, roles, queues, rules, schedule, parameter). One agent per account and region; IAM names also carry the region."
  type        = string
  default     = "monitoring-agent"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,23}$", var.name))
    error_message = "name must start with a letter and hold 1-24 letters, digits or hyphens."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

################################################################################
# The master
################################################################################

variable "master_event_bus_arn" {
  description = "ARN of the master event bus (the master module's event_bus_arn output): where the default-bus rule forwards the agent's envelopes and AWS events. It may be in another region: the agent publishes to its own default bus, so its events keep this region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.master_event_bus_arn))
    error_message = "master_event_bus_arn must be an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)."
  }
}

variable "master_account_id" {
  description = "Account of the master (the master module's master_account_id output): allowed to push Agent Config Update events to this account's default bus."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.master_account_id))
    error_message = "master_account_id must be 12 digits."
  }
}

################################################################################
# The QueryErrorLogs function
################################################################################

variable "query_error_logs_zip" {
  description = "Path of the query-error-logs package (ops/build writes target/lambda/query-error-logs/bootstrap.zip)."
  type        = string
}

variable "agent_name" {
  description = "Display name of the agent (AGENT_NAME), e.g. payments-prod. Null: the agent id (<account>-<region>)."
  type        = string
  default     = null

  validation {
    condition     = var.agent_name == null || try(length(trimspace(var.agent_name)) > 0, false)
    error_message = "agent_name must not be blank."
  }
}

variable "architecture" {
  description = "Instruction set of the function; must match the build target of the package."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory (MB) of the function."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout (seconds) of one run: Logs Insights queries of the whole window, then publishing."
  type        = number
  default     = 300

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions by function (key: query_error_logs), e.g. { query_error_logs = 2 } so a config push or the registration can run beside a scheduled run. Not listed: unreserved (the default: new accounts often have a concurrency quota of 10 and Lambda keeps 100 unreserved, so any reservation fails there)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.reserved_concurrency) : contains(["query_error_logs", "stream_error_logs"], k)])
    error_message = "reserved_concurrency keys must be function keys: query_error_logs, stream_error_logs."
  }

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v >= 0 && floor(v) == v])
    error_message = "reserved_concurrency values must be whole numbers of at least 0."
  }
}

variable "latency_seconds" {
  description = "How far behind now each query window ends (LATENCY_SECONDS), so late log records are not missed."
  type        = number
  default     = 120

  validation {
    condition     = var.latency_seconds >= 0 && var.latency_seconds <= 3600 && floor(var.latency_seconds) == var.latency_seconds
    error_message = "latency_seconds must be a whole number between 0 and 3600."
  }
}

variable "schedule_minutes" {
  description = "Minutes between two runs (the schedule's rate, and the seeded config's schedule_minutes)."
  type        = number
  default     = 5

  validation {
    condition     = var.schedule_minutes >= 1 && var.schedule_minutes <= 1440 && floor(var.schedule_minutes) == var.schedule_minutes
    error_message = "schedule_minutes must be a whole number between 1 and 1440."
  }
}

variable "register_on_apply" {
  description = "Invoke the function with {\"action\":\"register\"} at apply time (again when the package or the seeded config changes), so the agent publishes Agent Registered."
  type        = bool
  default     = true
}

variable "async_max_retry_attempts" {
  description = "Retries Lambda makes of a failed asynchronous invocation (schedule, config push) before it goes to the function's dead-letter queue."
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
# Seeded configuration (the master's PUT /agents/{agentId} changes it later)
################################################################################

variable "enabled" {
  description = "Seeded config: whether runs query the logs (a disabled agent still heartbeats)."
  type        = bool
  default     = true
}

variable "log_group_prefixes" {
  description = "Seeded config: log group name prefixes to watch (\"\" means every group). The function's logs:StartQuery permission covers exactly these prefixes and log_groups."
  type        = list(string)
  default     = ["/aws/lambda/"]

  validation {
    condition     = alltrue([for p in var.log_group_prefixes : p == "" || can(regex("^[A-Za-z0-9._/#-]{1,512}$", p))])
    error_message = "Each prefix must be \"\" or 1-512 of A-Z a-z 0-9 . - _ / #."
  }
}

variable "log_groups" {
  description = "Seeded config: individual log groups to watch besides the prefixes."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.log_groups : can(regex("^[A-Za-z0-9._/#-]{1,512}$", g))])
    error_message = "Each log group must be 1-512 of A-Z a-z 0-9 . - _ / #."
  }
}

variable "exclude_patterns" {
  description = "Seeded config: regular expressions of messages never reported (e.g. health checks)."
  type        = list(string)
  default     = []
}

variable "rules" {
  description = "Seeded config: ordered classification rules {pattern, severity}, tried before the built-in defaults. Severity: info, low, medium, high or critical."
  type = list(object({
    pattern  = string
    severity = string
  }))
  default = []

  validation {
    condition     = alltrue([for r in var.rules : contains(["info", "low", "medium", "high", "critical"], r.severity)])
    error_message = "Each rule's severity must be info, low, medium, high or critical."
  }
}

################################################################################
# EventBridge
################################################################################

variable "forward_aws_events" {
  description = "Forward GuardDuty findings, AWS Health events and CloudWatch alarm state changes from this account's default bus to the master bus (the agent's own envelopes are always forwarded)."
  type        = bool
  default     = true
}

variable "default_bus_policy_source_documents" {
  description = "IAM policy documents (JSON) merged into the default event bus policy. The module owns that policy (it admits the master's config pushes): put any other statement the default bus needs here."
  type        = list(string)
  default     = []
}

################################################################################
# Logs, queues, keys and alarms
################################################################################

variable "log_retention_days" {
  description = "Retention (days) of the function's log group."
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
  description = "Waiting period (days) before the agent's KMS key is deleted after a destroy."
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

################################################################################
# Real-time mode
################################################################################

variable "mode" {
  description = "How the agent reads logs: scheduled (Logs Insights queries every schedule_minutes), realtime (a CloudWatch Logs subscription to StreamErrorLogs, seconds of latency, no scan cost; the schedule only heartbeats) or both (the scheduled agent keeps the groups its config watches, the subscription reports every other group)."
  type        = string
  default     = "scheduled"

  validation {
    condition     = contains(["scheduled", "realtime", "both"], var.mode)
    error_message = "mode must be scheduled, realtime or both."
  }
}

variable "stream_error_logs_zip" {
  description = "Path of the stream-error-logs package (ops/build writes target/lambda/stream-error-logs/bootstrap.zip). Required when mode is realtime or both."
  type        = string
  default     = null
}

variable "stream_memory_size" {
  description = "Memory (MB) of StreamErrorLogs."
  type        = number
  default     = 128

  validation {
    condition     = var.stream_memory_size >= 128 && var.stream_memory_size <= 10240
    error_message = "stream_memory_size must be between 128 and 10240."
  }
}

variable "stream_timeout" {
  description = "Timeout (seconds) of one StreamErrorLogs invocation (one subscription batch, or a heartbeat in realtime mode)."
  type        = number
  default     = 30

  validation {
    condition     = var.stream_timeout >= 1 && var.stream_timeout <= 900
    error_message = "stream_timeout must be between 1 and 900."
  }
}

variable "subscription" {
  description = "Where the real-time subscription is made: account (the account-level subscription filter policy, every log group but the excluded ones) or log_groups (one subscription filter on each of subscription_log_groups, for an account whose one account-level policy is already in use)."
  type        = string
  default     = "account"

  validation {
    condition     = contains(["account", "log_groups"], var.subscription)
    error_message = "subscription must be account or log_groups."
  }
}

variable "subscription_log_groups" {
  description = "Log groups subscribed one by one when subscription = log_groups (each takes one of its two subscription filter slots)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.subscription_log_groups : can(regex("^[A-Za-z0-9._/#-]{1,512}$", g))])
    error_message = "Each log group must be 1-512 of A-Z a-z 0-9 . - _ / #."
  }
}

variable "subscription_excluded_log_groups" {
  description = "Log groups the account-level subscription leaves out besides the agent's own two (e.g. the master's function log groups when the master runs in this account, or noisy groups). Exact names: the selection criteria take no prefixes."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.subscription_excluded_log_groups) <= 48
    error_message = "At most 48 log groups can be excluded (the selection criteria hold 50 names, two are the agent's own)."
  }
}

variable "subscription_filter_pattern" {
  description = "CloudWatch Logs filter pattern of the subscription: which log events are delivered. The default delivers events holding an error-looking term (a term matches only as written, hence each spelling); StreamErrorLogs classifies them with the agent's rules, so a wider pattern costs invocations, never false events."
  type        = string
  default     = "?ERROR ?Error ?error ?ERR ?Exception ?exception ?Traceback ?FATAL ?Fatal ?fatal ?CRITICAL ?Critical ?critical ?panic ?panicked ?\"Task timed out\" ?\"Status: timeout\" ?OutOfMemory ?\"out of memory\" ?\"Runtime exited\" ?Unhandled ?unhandled ?WARN ?Warn ?warn ?WARNING ?Warning ?warning"

  validation {
    condition     = length(var.subscription_filter_pattern) > 0 && length(var.subscription_filter_pattern) <= 1024
    error_message = "subscription_filter_pattern must hold 1-1024 characters."
  }
}
