output "agent_id" {
  description = "Id of the agent as the master knows it: <account>-<region>."
  value       = local.agent_id
}

output "agent_name" {
  description = "Display name of the agent (AGENT_NAME)."
  value       = local.agent_name
}

output "function_name" {
  description = "Name of the QueryErrorLogs Lambda function."
  value       = module.query_error_logs.function_name
}

output "function_arn" {
  description = "ARN of the QueryErrorLogs Lambda function."
  value       = module.query_error_logs.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = module.query_error_logs.role_arn
}

output "state_parameter_name" {
  description = "Name of the SSM parameter holding the agent's checkpoint and config (STATE_PARAMETER)."
  value       = aws_ssm_parameter.state.name
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule that runs the agent."
  value       = aws_scheduler_schedule.this.arn
}

output "forward_rule_arn" {
  description = "ARN of the default-bus rule forwarding the agent's envelopes (and, with forward_aws_events, AWS events) to the master bus."
  value       = aws_cloudwatch_event_rule.forward.arn
}

output "config_update_rule_arn" {
  description = "ARN of the default-bus rule delivering the master's Agent Config Update events to the function."
  value       = aws_cloudwatch_event_rule.config_update.arn
}

output "dead_letter_queue_arns" {
  description = "ARNs of the dead-letter queues: events (default-bus rules), schedule and lambda (failed asynchronous invocations)."
  value = {
    events   = aws_sqs_queue.events_dlq.arn
    schedule = aws_sqs_queue.schedule_dlq.arn
    lambda   = module.query_error_logs.dlq_arn
  }
}

output "kms_key_arn" {
  description = "ARN of the agent's KMS key (queues, log group, Lambda environment, schedule)."
  value       = aws_kms_key.this.arn
}

output "stream_function_name" {
  description = "Name of the StreamErrorLogs Lambda function (mode realtime or both), else null."
  value       = local.realtime ? module.stream_error_logs[0].function_name : null
}

output "stream_dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue of StreamErrorLogs: subscription batches it could not publish after Lambda's retries (mode realtime or both), else null."
  value       = local.realtime ? module.stream_error_logs[0].dlq_arn : null
}
