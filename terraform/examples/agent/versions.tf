terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

# Credentials of the monitored account (profile, SSO or environment); one
# agent per account and region.
provider "aws" {
  region = var.region
}
