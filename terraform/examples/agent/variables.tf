variable "region" {
  description = "Region of this agent (one agent per monitored account and region)."
  type        = string
  default     = "eu-west-1"
}

variable "master_event_bus_arn" {
  description = "The master deployment's event_bus_arn output (terraform -chdir=../master output -raw event_bus_arn)."
  type        = string
}

variable "master_account_id" {
  description = "The master deployment's master_account_id output (terraform -chdir=../master output -raw master_account_id)."
  type        = string
}

variable "agent_name" {
  description = "Display name of the agent (null: <account>-<region>)."
  type        = string
  default     = null
}

variable "log_group_prefixes" {
  description = "Log group prefixes the agent watches at first (the master's API changes them later)."
  type        = list(string)
  default     = ["/aws/lambda/"]
}

variable "schedule_minutes" {
  description = "Minutes between two agent runs."
  type        = number
  default     = 5
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the agent function, e.g. { query_error_logs = 2 }. Empty: unreserved (a new account's concurrency quota often allows no reservation)."
  type        = map(number)
  default     = {}
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic for the agent's alarms (null: alarms without actions)."
  type        = string
  default     = null
}

variable "lambda_build_dir" {
  description = "Folder holding <binary>/bootstrap.zip as ops/build writes them; relative paths are relative to this example."
  type        = string
  default     = "../../../target/lambda"
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default = {
    project = "aws-monitoring"
  }
}
