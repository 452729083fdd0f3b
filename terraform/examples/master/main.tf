# A master deployment: run it first, in the master account, then give its
# outputs event_bus_arn and master_account_id to every agent deployment
# (see ../agent).

locals {
  build_dir = startswith(var.lambda_build_dir, "/") ? var.lambda_build_dir : "${path.module}/${var.lambda_build_dir}"
}

module "master" {
  source = "../../modules/master"

  name              = var.name
  agent_account_ids = var.agent_account_ids
  organization_id   = var.organization_id

  handle_monitoring_events_zip = "${local.build_dir}/handle-monitoring-events/bootstrap.zip"
  update_deployment_zip        = "${local.build_dir}/update-deployment/bootstrap.zip"
  daily_report_zip             = "${local.build_dir}/daily-report/bootstrap.zip"
  api_zip                      = "${local.build_dir}/api/bootstrap.zip"

  report_sender          = var.report_sender
  report_recipients      = var.report_recipients
  create_sender_identity = var.create_sender_identity
  report_time_zone       = var.report_time_zone

  create_api_gateway_account_role = var.create_api_gateway_account_role
  reserved_concurrency            = var.reserved_concurrency
  deletion_protection             = var.deletion_protection
  alarm_sns_topic_arn             = var.alarm_sns_topic_arn

  tags = var.tags
}
