################################################################################
# The function
################################################################################

variable "function_name" {
  description = "Name of the Lambda function; also names its log group (/aws/lambda/<name>), dead-letter queue (<name>-dlq), inline policy and error alarm."
  type        = string
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
}

variable "zip" {
  description = "Path of the function's package (a zip holding its bootstrap, built by ops/build)."
  type        = string
}

variable "environment" {
  description = "Environment variables of the function: names and values only, never secrets (pass the name of an SSM parameter instead)."
  type        = map(string)
}

variable "architecture" {
  description = "Instruction set of the function: arm64 or x86_64 (the package's)."
  type        = string

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the function, in MB."
  type        = number
}

variable "timeout" {
  description = "Timeout of the function, in seconds."
  type        = number
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the function; null (the default) reserves nothing."
  type        = number
  default     = null
}

################################################################################
# Role, key, logs, dead-letter queue, retries
################################################################################

variable "policy_json" {
  description = "IAM policy document (JSON) of what the function itself needs; the module adds its own logs, dead-letter queue and key."
  type        = string
}

variable "role_name" {
  description = "Name of the function's execution role; null: the function's name."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the environment, the log group and the dead-letter queue."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
}

variable "dlq_message_retention_seconds" {
  description = "How long the dead-letter queue keeps a failed invocation, in seconds."
  type        = number
}

variable "async_max_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (0-2)."
  type        = number
}

variable "async_max_event_age_seconds" {
  description = "Maximum age of an asynchronous invocation before it goes to the dead-letter queue, in seconds (60-21600)."
  type        = number
}

################################################################################
# Alarm and tags
################################################################################

variable "alarm_actions" {
  description = "ARNs notified when the function reports errors (and when it recovers)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of every resource of the module."
  type        = map(string)
  default     = {}
}
