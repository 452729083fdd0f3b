output "agent_id" {
  description = "Id of the agent on the master's API (GET /agents/{agentId})."
  value       = module.agent.agent_id
}

output "function_name" {
  description = "Name of the QueryErrorLogs function."
  value       = module.agent.function_name
}

output "state_parameter_name" {
  description = "SSM parameter with the agent's checkpoint and config."
  value       = module.agent.state_parameter_name
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queues to watch."
  value       = module.agent.dead_letter_queue_arns
}
