variable "name" {
  description = "Prefix of every resource's name, e.g. storefront-prod."
  type        = string
  default     = "storefront"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.name))
    error_message = "name: 3 to 28 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into public and private subnets, one pair per zone."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Number of availability zones to spread over (2 or 3)."
  type        = number
  default     = 3

  validation {
    condition     = var.availability_zones >= 2 && var.availability_zones <= 3
    error_message = "availability_zones must be 2 or 3."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"
}

variable "node_instance_types" {
  description = "Instance types of the EKS managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_count" {
  description = "Desired, minimum and maximum number of worker nodes."
  type = object({
    desired = number
    min     = number
    max     = number
  })
  default = {
    desired = 3
    min     = 3
    max     = 9
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the EKS API endpoint from outside the VPC."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "postgres" {
  description = "RDS PostgreSQL: users, orders and the catalog's ledger."
  type = object({
    version           = string
    instance_class    = string
    allocated_storage = number
    max_storage       = number
    multi_az          = bool
    backup_days       = number
  })
  default = {
    version           = "17"
    instance_class    = "db.m6g.large"
    allocated_storage = 50
    max_storage       = 500
    multi_az          = true
    backup_days       = 14
  }
}

variable "redis" {
  description = "ElastiCache Redis: carts and the order events stream."
  type = object({
    version   = string
    node_type = string
    replicas  = number
  })
  default = {
    version   = "7.1"
    node_type = "cache.m6g.large"
    replicas  = 1
  }
}

variable "opensearch" {
  description = "Amazon OpenSearch Service: the product search index."
  type = object({
    engine_version = string
    instance_type  = string
    instance_count = number
    volume_gb      = number
  })
  default = {
    engine_version = "OpenSearch_2.19"
    instance_type  = "m6g.large.search"
    instance_count = 2
    volume_gb      = 50
  }
}

variable "create_opensearch_service_linked_role" {
  description = "Create the account's OpenSearch service-linked role (set false if the account already has it)."
  type        = bool
  default     = true
}

variable "documentdb" {
  description = "Amazon DocumentDB for the catalog's documents. Off by default: see README (TLS CA and retryable writes); MongoDB Atlas or the operator's managed MongoDB are the tested choices."
  type = object({
    enabled        = bool
    instance_class = string
    instances      = number
  })
  default = {
    enabled        = false
    instance_class = "db.r6g.large"
    instances      = 2
  }
}

variable "backup_retention_days" {
  description = "Days a backup object is kept in the backups bucket (the operator also prunes by count)."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  description = "Protect the databases from deletion (turn off only for throw-away environments)."
  type        = bool
  default     = true
}
