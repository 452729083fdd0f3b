# State addresses from before modules/function (every function had its
# resources in this module) and the map of master bus rules: `terraform plan`
# moves them instead of destroying and re-creating the functions, roles, log
# groups (with their logs) and dead-letter queues (with their messages).

# handle_monitoring_events

moved {
  from = aws_lambda_function.handle_monitoring_events
  to   = module.function["handle_monitoring_events"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["handle_monitoring_events"]
  to   = module.function["handle_monitoring_events"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["handle_monitoring_events"]
  to   = module.function["handle_monitoring_events"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["handle_monitoring_events"]
  to   = module.function["handle_monitoring_events"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["handle_monitoring_events"]
  to   = module.function["handle_monitoring_events"].aws_sqs_queue.dlq
}

moved {
  from = aws_lambda_function_event_invoke_config.handle_monitoring_events
  to   = module.function["handle_monitoring_events"].aws_lambda_function_event_invoke_config.this
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["handle_monitoring_events"]
  to   = module.function["handle_monitoring_events"].aws_cloudwatch_metric_alarm.errors
}

# update_deployment

moved {
  from = aws_lambda_function.update_deployment
  to   = module.function["update_deployment"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["update_deployment"]
  to   = module.function["update_deployment"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["update_deployment"]
  to   = module.function["update_deployment"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["update_deployment"]
  to   = module.function["update_deployment"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["update_deployment"]
  to   = module.function["update_deployment"].aws_sqs_queue.dlq
}

moved {
  from = aws_lambda_function_event_invoke_config.update_deployment
  to   = module.function["update_deployment"].aws_lambda_function_event_invoke_config.this
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["update_deployment"]
  to   = module.function["update_deployment"].aws_cloudwatch_metric_alarm.errors
}

# daily_report

moved {
  from = aws_lambda_function.daily_report
  to   = module.function["daily_report"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["daily_report"]
  to   = module.function["daily_report"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["daily_report"]
  to   = module.function["daily_report"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["daily_report"]
  to   = module.function["daily_report"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["daily_report"]
  to   = module.function["daily_report"].aws_sqs_queue.dlq
}

moved {
  from = aws_lambda_function_event_invoke_config.daily_report
  to   = module.function["daily_report"].aws_lambda_function_event_invoke_config.this
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["daily_report"]
  to   = module.function["daily_report"].aws_cloudwatch_metric_alarm.errors
}

# list_events

moved {
  from = aws_lambda_function.api["list_events"]
  to   = module.function["list_events"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["list_events"]
  to   = module.function["list_events"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["list_events"]
  to   = module.function["list_events"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["list_events"]
  to   = module.function["list_events"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["list_events"]
  to   = module.function["list_events"].aws_sqs_queue.dlq
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["list_events"]
  to   = module.function["list_events"].aws_cloudwatch_metric_alarm.errors
}

# get_event

moved {
  from = aws_lambda_function.api["get_event"]
  to   = module.function["get_event"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["get_event"]
  to   = module.function["get_event"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["get_event"]
  to   = module.function["get_event"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["get_event"]
  to   = module.function["get_event"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["get_event"]
  to   = module.function["get_event"].aws_sqs_queue.dlq
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["get_event"]
  to   = module.function["get_event"].aws_cloudwatch_metric_alarm.errors
}

# update_event

moved {
  from = aws_lambda_function.api["update_event"]
  to   = module.function["update_event"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["update_event"]
  to   = module.function["update_event"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["update_event"]
  to   = module.function["update_event"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["update_event"]
  to   = module.function["update_event"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["update_event"]
  to   = module.function["update_event"].aws_sqs_queue.dlq
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["update_event"]
  to   = module.function["update_event"].aws_cloudwatch_metric_alarm.errors
}

# list_agents

moved {
  from = aws_lambda_function.api["list_agents"]
  to   = module.function["list_agents"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["list_agents"]
  to   = module.function["list_agents"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["list_agents"]
  to   = module.function["list_agents"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["list_agents"]
  to   = module.function["list_agents"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["list_agents"]
  to   = module.function["list_agents"].aws_sqs_queue.dlq
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["list_agents"]
  to   = module.function["list_agents"].aws_cloudwatch_metric_alarm.errors
}

# get_agent

moved {
  from = aws_lambda_function.api["get_agent"]
  to   = module.function["get_agent"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["get_agent"]
  to   = module.function["get_agent"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["get_agent"]
  to   = module.function["get_agent"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["get_agent"]
  to   = module.function["get_agent"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["get_agent"]
  to   = module.function["get_agent"].aws_sqs_queue.dlq
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["get_agent"]
  to   = module.function["get_agent"].aws_cloudwatch_metric_alarm.errors
}

# update_agent

moved {
  from = aws_lambda_function.api["update_agent"]
  to   = module.function["update_agent"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.lambda["update_agent"]
  to   = module.function["update_agent"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda_base["update_agent"]
  to   = module.function["update_agent"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda["update_agent"]
  to   = module.function["update_agent"].aws_cloudwatch_log_group.this
}

moved {
  from = aws_sqs_queue.lambda_dlq["update_agent"]
  to   = module.function["update_agent"].aws_sqs_queue.dlq
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["update_agent"]
  to   = module.function["update_agent"].aws_cloudwatch_metric_alarm.errors
}

# The monitoring_events rule

moved {
  from = aws_cloudwatch_event_rule.monitoring_events
  to   = aws_cloudwatch_event_rule.bus["monitoring_events"]
}

moved {
  from = aws_cloudwatch_event_target.monitoring_events
  to   = aws_cloudwatch_event_target.bus["monitoring_events"]
}

moved {
  from = aws_lambda_permission.monitoring_events
  to   = aws_lambda_permission.bus["monitoring_events"]
}

# The agent_events rule

moved {
  from = aws_cloudwatch_event_rule.agent_events
  to   = aws_cloudwatch_event_rule.bus["agent_events"]
}

moved {
  from = aws_cloudwatch_event_target.agent_events
  to   = aws_cloudwatch_event_target.bus["agent_events"]
}

moved {
  from = aws_lambda_permission.agent_events
  to   = aws_lambda_permission.bus["agent_events"]
}
