terraform {
  # mock_provider in tests/ needs 1.7.
  required_version = ">= 1.7"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    swarmboot = {
      source = "swarmboot/swarmboot"
    }
  }
}
