variable "region" {
  description = "Region of the master deployment."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name of the deployment (event bus, table, prefix of the other resources)."
  type        = string
  default     = "monitoring"
}

variable "agent_account_ids" {
  description = "Monitored accounts whose agents may publish to the master bus."
  type        = list(string)
  default     = []
}

variable "organization_id" {
  description = "AWS Organization whose accounts may publish to the master bus (instead of, or besides, agent_account_ids)."
  type        = string
  default     = null
}

variable "report_sender" {
  description = "SES-verified address the daily report is sent from."
  type        = string
}

variable "report_recipients" {
  description = "Addresses the daily report is sent to."
  type        = list(string)
}

variable "create_sender_identity" {
  description = "Create the SES e-mail identity of report_sender (SES mails a verification link to it)."
  type        = bool
  default     = false
}

variable "report_time_zone" {
  description = "Time zone of the daily report schedule (06:00 in this zone)."
  type        = string
  default     = "UTC"
}

variable "create_api_gateway_account_role" {
  description = "Create the region's API Gateway CloudWatch Logs role setting, which API logging needs (one per account and region: it replaces any role already set; false when another stack owns it)."
  type        = bool
  default     = true
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions by function key (see the master module's reserved_concurrency), e.g. { handle_monitoring_events = 10 }. Empty: unreserved."
  type        = map(number)
  default     = {}
}

variable "deletion_protection" {
  description = "Deletion protection of the DynamoDB table."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic for the alarms (null: alarms without actions)."
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
