################################################################################
# REST API: cursor key
################################################################################

resource "random_password" "cursor_key" {
  length  = 64
  special = false
}

# The key that signs list cursors. Its value lives in the state and in SSM;
# the functions get only the parameter's name.
resource "aws_ssm_parameter" "cursor_key" {
  name        = local.cursor_key_parameter_name
  description = "${var.name}: key that signs the REST API's list cursors"
  type        = "SecureString"
  key_id      = aws_kms_key.this.arn
  value       = random_password.cursor_key.result
  tags        = var.tags
}

################################################################################
# REST API: one function per route (module.function)
################################################################################

# Every route: read the table (and its indexes) and the cursor key.
data "aws_iam_policy_document" "api_read" {
  statement {
    sid       = "ReadEventsAndAgents"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"]
  }

  statement {
    sid       = "ReadCursorKey"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.cursor_key.arn]
  }
}

# PUT /events/{eventId}: conditional PutItem of the event, UpdateItem of its
# listed day.
data "aws_iam_policy_document" "api_update_event" {
  statement {
    sid       = "TriageEvents"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.this.arn]
  }
}

# PUT /agents/{agentId}: conditional PutItem of the agent, then the config
# push to the agent's bus.
data "aws_iam_policy_document" "api_update_agent" {
  statement {
    sid       = "ConfigureAgents"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.this.arn]
  }

  statement {
    sid       = "PushConfigsToAgents"
    actions   = ["events:PutEvents"]
    resources = local.agent_bus_arns
  }
}

# Each route's policy: read, and what its own writes need.
data "aws_iam_policy_document" "api" {
  for_each = local.api_routes

  source_policy_documents = concat(
    [data.aws_iam_policy_document.api_read.json],
    each.key == "update_event" ? [data.aws_iam_policy_document.api_update_event.json] : [],
    each.key == "update_agent" ? [data.aws_iam_policy_document.api_update_agent.json] : [],
  )
}

resource "aws_lambda_permission" "api" {
  for_each = local.api_routes

  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = module.function[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/${each.value.method}${each.value.arn_path}"
}

################################################################################
# REST API: API Gateway
################################################################################

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = "${var.name}: events and agents (IAM-authenticated)"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "events" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "events"
}

resource "aws_api_gateway_resource" "event" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.events.id
  path_part   = "{eventId}"
}

resource "aws_api_gateway_resource" "event_activity" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.event.id
  path_part   = "activity"
}

resource "aws_api_gateway_resource" "overview" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "overview"
}

resource "aws_api_gateway_resource" "agents" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "agents"
}

resource "aws_api_gateway_resource" "agent" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.agents.id
  path_part   = "{agentId}"
}

# Requires the declared path parameters; query parameters and bodies are
# validated by the function, which answers the API's own 400 errors.
resource "aws_api_gateway_request_validator" "this" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "parameters"
  validate_request_parameters = true
  validate_request_body       = false
}

resource "aws_api_gateway_method" "route" {
  for_each = local.api_routes

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = local.api_resource_ids[each.value.resource]
  http_method          = each.value.method
  authorization        = "AWS_IAM"
  request_validator_id = aws_api_gateway_request_validator.this.id

  request_parameters = {
    for p in compact([local.api_path_parameters[each.value.resource]]) : "method.request.path.${p}" => true
  }
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.api_routes

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.route[each.key].resource_id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = module.function[each.key].invoke_arn
}

# No OPTIONS (CORS preflight) methods: browsers do not sign preflights, so an
# AWS_IAM OPTIONS method always fails them, and the functions' answers carry no
# CORS headers, so even an open preflight would not let a page read them. The
# API is for SigV4 clients (CLI, SDKs, a signing proxy on the page's own
# origin); every method stays AWS_IAM.
resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "${var.name} REST API"

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.events,
      aws_api_gateway_resource.event,
      aws_api_gateway_resource.agents,
      aws_api_gateway_resource.agent,
      aws_api_gateway_resource.event_activity,
      aws_api_gateway_resource.overview,
      aws_api_gateway_request_validator.this,
      aws_api_gateway_method.route,
      aws_api_gateway_integration.route,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

# API Gateway writes execution logs to this group; created here so it has a
# retention and the module's key.
resource "aws_cloudwatch_log_group" "api_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.api_stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name}-access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120: caching stays off: every answer depends on the caller's IAM identity and must show the latest triage state
  #checkov:skip=CKV2_AWS_51: client certificates authenticate API Gateway to HTTP backends; every integration here is a Lambda proxy
  #checkov:skip=CKV2_AWS_29: every method requires SigV4 (AWS_IAM) and the stage is throttled; attach a WAF web ACL outside this module if your organisation requires one
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.api_stage_name
  description          = "${var.name} REST API"
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      requestTime    = "$context.requestTime"
      caller         = "$context.identity.caller"
      userArn        = "$context.identity.userArn"
      sourceIp       = "$context.identity.sourceIp"
      httpMethod     = "$context.httpMethod"
      resourcePath   = "$context.resourcePath"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latency        = "$context.responseLatency"
      errorMessage   = "$context.error.message"
    })
  }

  tags = var.tags

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.api_execution]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225: caching stays off: every answer depends on the caller's IAM identity and must show the latest triage state
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.api_logging_level
    data_trace_enabled     = false
    throttling_rate_limit  = var.api_throttle_rate_limit
    throttling_burst_limit = var.api_throttle_burst_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}

# The account-and-region setting that lets API Gateway write logs, which the
# stage's access and execution logs need (without it the stage fails to create:
# "CloudWatch Logs role ARN must be set in account settings to enable
# logging"). Created by default so a first apply works on a new account; it is
# a singleton per account and region, so it replaces any role set there before
# (create_api_gateway_account_role = false when another stack owns it).
data "aws_iam_policy_document" "api_gateway_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account_role ? 1 : 0

  name               = "${var.name}-api-gateway-cloudwatch-${local.region}"
  description        = "Lets API Gateway write execution and access logs in ${local.region}"
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume_role.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account_role ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.create_api_gateway_account_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}
