# An agent deployment, in a monitored account. It is wired to the master
# through two variables the operator copies from the master deployment's
# outputs (run in ../master, with the master account's credentials):
#
#   terraform output -raw event_bus_arn      -> master_event_bus_arn
#   terraform output -raw master_account_id  -> master_account_id
#
# Plain variables rather than a terraform_remote_state data source: the agent
# runs with the monitored account's credentials, which usually cannot read the
# master's state. The master must list this account in agent_account_ids (or
# share its organization) before this apply, since the agent registers itself
# at apply time. The agent may run in any region, not only the master's: it
# publishes to this account's default bus here, and a rule forwards its
# events to the master bus, keeping this account and region.

locals {
  build_dir = startswith(var.lambda_build_dir, "/") ? var.lambda_build_dir : "${path.module}/${var.lambda_build_dir}"
}

module "agent" {
  source = "../../modules/agent"

  master_event_bus_arn = var.master_event_bus_arn
  master_account_id    = var.master_account_id

  query_error_logs_zip = "${local.build_dir}/query-error-logs/bootstrap.zip"

  agent_name         = var.agent_name
  log_group_prefixes = var.log_group_prefixes
  schedule_minutes   = var.schedule_minutes

  reserved_concurrency = var.reserved_concurrency
  alarm_sns_topic_arn  = var.alarm_sns_topic_arn
  tags                 = var.tags
}
