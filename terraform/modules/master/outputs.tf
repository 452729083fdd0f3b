output "event_bus_arn" {
  description = "ARN of the master event bus (the agents' master_event_bus_arn)."
  value       = aws_cloudwatch_event_bus.this.arn
}

output "event_bus_name" {
  description = "Name of the master event bus."
  value       = aws_cloudwatch_event_bus.this.name
}

output "master_account_id" {
  description = "Account the master runs in (the agents' master_account_id, allowed to push configs to their default bus)."
  value       = local.account_id
}

output "region" {
  description = "Region the master runs in."
  value       = local.region
}

output "api_url" {
  description = "Invoke URL of the REST API stage (requests are signed with SigV4 for the execute-api service)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "api_id" {
  description = "Id of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "api_execution_arn" {
  description = "Execution ARN of the API stage, for execute-api:Invoke policies of the API's callers (append /METHOD/path, e.g. /GET/events)."
  value       = aws_api_gateway_stage.this.execution_arn
}

output "table_name" {
  description = "Name of the DynamoDB table of events and agents."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the DynamoDB table of events and agents."
  value       = aws_dynamodb_table.this.arn
}

output "kms_key_arn" {
  description = "ARN of the module's KMS key (table, queues, log groups, cursor key, Lambda environment, schedule)."
  value       = aws_kms_key.this.arn
}

output "cursor_key_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the key that signs the API's cursors."
  value       = aws_ssm_parameter.cursor_key.name
}

output "function_names" {
  description = "Lambda function names, by function (handle_monitoring_events, update_deployment, daily_report, list_events, get_event, update_event, list_agents, get_agent, update_agent, event_activity, overview; notify when notify_zip is set)."
  value       = merge({ for k, f in module.function : k => f.function_name }, { for f in module.notify : "notify" => f.function_name })
}

output "function_role_arns" {
  description = "ARNs of the Lambda execution roles, by function."
  value       = { for k, f in module.function : k => f.role_arn }
}

output "dead_letter_queue_arns" {
  description = "ARNs of the dead-letter queues: events (master bus rules), daily_schedule (report schedule) and lambda_<function> (failed asynchronous invocations)."
  value = merge(
    {
      events         = aws_sqs_queue.events_dlq.arn
      daily_schedule = aws_sqs_queue.schedule_dlq.arn
    },
    { for k, f in module.function : "lambda_${k}" => f.dlq_arn },
  )
}

output "daily_report_schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule that runs DailyReport."
  value       = aws_scheduler_schedule.daily_report.arn
}
