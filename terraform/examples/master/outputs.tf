output "event_bus_arn" {
  description = "Master bus ARN: the agents' master_event_bus_arn."
  value       = module.master.event_bus_arn
}

output "master_account_id" {
  description = "Master account id: the agents' master_account_id."
  value       = module.master.master_account_id
}

output "event_bus_name" {
  description = "Name of the master event bus."
  value       = module.master.event_bus_name
}

output "api_url" {
  description = "Invoke URL of the REST API (SigV4-signed requests, service execute-api)."
  value       = module.master.api_url
}

output "table_name" {
  description = "DynamoDB table of events and agents."
  value       = module.master.table_name
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queues to watch."
  value       = module.master.dead_letter_queue_arns
}
