terraform {
  required_version = ">= 1.7"
  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.0"
    }
    swarmboot = {
      source = "swarmboot/swarmboot"
    }
  }
}
