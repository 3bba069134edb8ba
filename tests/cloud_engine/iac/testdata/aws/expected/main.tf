data "aws_ami" "amazon-linux-2023__us-east-1" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["al2023-ami-2023.*-x86_64"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "aws_vpc" "core" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_subnet" "core__app" {
  vpc_id                  = aws_vpc.core.id
  cidr_block              = "10.20.1.0/24"
  availability_zone       = "us-east-1a"
  map_public_ip_on_launch = false
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "app"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_subnet" "core__data" {
  vpc_id                  = aws_vpc.core.id
  cidr_block              = "10.20.2.0/24"
  availability_zone       = "us-east-1b"
  map_public_ip_on_launch = false
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "data"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_security_group" "web-fw" {
  name        = "web-fw"
  description = "Web tier {blue} $${env}"
  vpc_id      = aws_vpc.core.id
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "web-fw"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_vpc_security_group_ingress_rule" "web-fw__r0_0_0" {
  security_group_id = aws_security_group.web-fw.id
  description       = "web-fw rule 0"
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/8"
  from_port         = 80
  to_port           = 80
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "web-fw"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_vpc_security_group_ingress_rule" "web-fw__r0_0_1" {
  security_group_id = aws_security_group.web-fw.id
  description       = "web-fw rule 0"
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/8"
  from_port         = 443
  to_port           = 443
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "web-fw"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_vpc_security_group_ingress_rule" "web-fw__r0_0_2" {
  security_group_id = aws_security_group.web-fw.id
  description       = "web-fw rule 0"
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/8"
  from_port         = 8000
  to_port           = 8080
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "web-fw"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_vpc_security_group_ingress_rule" "web-fw__r1_0_0" {
  security_group_id = aws_security_group.web-fw.id
  description       = "web-fw rule 1"
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.20.0.0/16"
  from_port         = 22
  to_port           = 22
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "web-fw"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_vpc_security_group_egress_rule" "web-fw__r2_0_0" {
  security_group_id = aws_security_group.web-fw.id
  description       = "web-fw rule 2"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "web-fw"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_s3_bucket" "assets-ce" {
  provider            = aws.us_west_2
  bucket              = "assets-ce"
  force_destroy       = false
  object_lock_enabled = true
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "assets-ce"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_s3_bucket_public_access_block" "assets-ce" {
  provider                = aws.us_west_2
  bucket                  = aws_s3_bucket.assets-ce.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "assets-ce" {
  provider = aws.us_west_2
  bucket   = aws_s3_bucket.assets-ce.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "assets-ce" {
  provider = aws.us_west_2
  bucket   = aws_s3_bucket.assets-ce.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_versioning" "assets-ce" {
  provider = aws.us_west_2
  bucket   = aws_s3_bucket.assets-ce.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "assets-ce" {
  provider = aws.us_west_2
  bucket   = aws_s3_bucket.assets-ce.id

  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 30
    }
  }
}

resource "aws_db_subnet_group" "orders-db__subnets" {
  name       = "orders-db-subnets"
  subnet_ids = [aws_subnet.core__app.id, aws_subnet.core__data.id]
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "orders-db"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_security_group" "orders-db__db" {
  name        = "orders-db-db"
  description = "postgres orders-db: engine port from the app tier only"
  vpc_id      = aws_vpc.core.id
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "orders-db"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_vpc_security_group_ingress_rule" "orders-db__db__app" {
  security_group_id = aws_security_group.orders-db__db.id
  description       = "postgres from subnet app"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = "10.20.1.0/24"
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "orders-db"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_vpc_security_group_ingress_rule" "orders-db__db__data" {
  security_group_id = aws_security_group.orders-db__db.id
  description       = "postgres from subnet data"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = "10.20.2.0/24"
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "orders-db"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_db_instance" "orders-db" {
  identifier                          = "orders-db"
  engine                              = "postgres"
  engine_version                      = "16"
  instance_class                      = "db.t3.micro"
  allocated_storage                   = 20
  storage_type                        = "gp3"
  storage_encrypted                   = true
  username                            = "dbadmin"
  manage_master_user_password         = true
  db_subnet_group_name                = aws_db_subnet_group.orders-db__subnets.name
  vpc_security_group_ids              = [aws_security_group.orders-db__db.id]
  publicly_accessible                 = false
  multi_az                            = false
  backup_retention_period             = 7
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "orders-db-final"
  copy_tags_to_snapshot               = true
  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "orders-db"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_instance" "web-1" {
  ami                         = data.aws_ami.amazon-linux-2023__us-east-1.id
  instance_type               = "t3.small"
  subnet_id                   = aws_subnet.core__app.id
  associate_public_ip_address = false
  vpc_security_group_ids      = [aws_security_group.web-fw.id]
  ebs_optimized               = true
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "web-1"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_size           = 30
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }
}

data "aws_iam_policy_document" "apps__eks-cluster" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apps__eks-cluster" {
  name               = "apps-eks-cluster"
  assume_role_policy = data.aws_iam_policy_document.apps__eks-cluster.json
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "apps"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_iam_role_policy_attachment" "apps__eks-cluster__AmazonEKSClusterPolicy" {
  role       = aws_iam_role.apps__eks-cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

data "aws_iam_policy_document" "apps__eks-nodes" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apps__eks-nodes" {
  name               = "apps-eks-nodes"
  assume_role_policy = data.aws_iam_policy_document.apps__eks-nodes.json
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "apps"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_iam_role_policy_attachment" "apps__eks-nodes__AmazonEKSWorkerNodePolicy" {
  role       = aws_iam_role.apps__eks-nodes.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
}

resource "aws_iam_role_policy_attachment" "apps__eks-nodes__AmazonEKS_CNI_Policy" {
  role       = aws_iam_role.apps__eks-nodes.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
}

resource "aws_iam_role_policy_attachment" "apps__eks-nodes__AmazonEC2ContainerRegistryReadOnly" {
  role       = aws_iam_role.apps__eks-nodes.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
}

resource "aws_cloudwatch_log_group" "apps__logs" {
  name              = "/aws/eks/apps/cluster"
  retention_in_days = 365
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "apps"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_kms_key" "apps__secrets" {
  description             = "EKS secrets of apps (shop)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "apps"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_eks_cluster" "apps" {
  name                      = "apps"
  role_arn                  = aws_iam_role.apps__eks-cluster.arn
  version                   = "1.30"
  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "apps"
    managed_by = "cloud-engine"
    project    = "shop"
  }
  depends_on = [aws_iam_role_policy_attachment.apps__eks-cluster__AmazonEKSClusterPolicy, aws_cloudwatch_log_group.apps__logs]

  vpc_config {
    subnet_ids              = [aws_subnet.core__app.id, aws_subnet.core__data.id]
    security_group_ids      = [aws_security_group.web-fw.id]
    endpoint_private_access = true
    endpoint_public_access  = false
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = aws_kms_key.apps__secrets.arn
    }
  }
}

resource "aws_eks_node_group" "apps__nodes" {
  cluster_name    = aws_eks_cluster.apps.name
  node_group_name = "apps-nodes"
  node_role_arn   = aws_iam_role.apps__eks-nodes.arn
  subnet_ids      = [aws_subnet.core__app.id, aws_subnet.core__data.id]
  instance_types  = ["t3.medium"]
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "apps"
    managed_by = "cloud-engine"
    project    = "shop"
  }
  depends_on = [aws_iam_role_policy_attachment.apps__eks-nodes__AmazonEKSWorkerNodePolicy, aws_iam_role_policy_attachment.apps__eks-nodes__AmazonEKS_CNI_Policy, aws_iam_role_policy_attachment.apps__eks-nodes__AmazonEC2ContainerRegistryReadOnly]

  scaling_config {
    desired_size = 2
    min_size     = 2
    max_size     = 2
  }

  update_config {
    max_unavailable = 1
  }
}

resource "aws_default_security_group" "core" {
  vpc_id = aws_vpc.core.id
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core-default"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_cloudwatch_log_group" "core__flow_logs" {
  name              = "/cloud-engine/shop/core/flow-logs"
  retention_in_days = 365
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

data "aws_iam_policy_document" "core__flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "core__flow_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.core__flow_logs.arn}:*"]
  }
}

resource "aws_iam_role" "core__flow_logs" {
  name               = "shop-core-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.core__flow_logs_assume.json
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_iam_role_policy" "core__flow_logs" {
  name   = "flow-logs"
  role   = aws_iam_role.core__flow_logs.id
  policy = data.aws_iam_policy_document.core__flow_logs.json
}

resource "aws_flow_log" "core" {
  vpc_id               = aws_vpc.core.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.core__flow_logs.arn
  iam_role_arn         = aws_iam_role.core__flow_logs.arn
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_subnet" "core__nat_edge" {
  vpc_id                  = aws_vpc.core.id
  cidr_block              = "10.20.255.240/28"
  availability_zone       = "us-east-1a"
  map_public_ip_on_launch = false
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core-nat-edge"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_internet_gateway" "core" {
  vpc_id = aws_vpc.core.id
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_route_table" "core__public" {
  vpc_id = aws_vpc.core.id
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core-public"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.core.id
  }
}

resource "aws_route_table_association" "core__nat_edge" {
  subnet_id      = aws_subnet.core__nat_edge.id
  route_table_id = aws_route_table.core__public.id
}

resource "aws_eip" "core__nat" {
  domain = "vpc"
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core-nat"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "aws_nat_gateway" "core" {
  allocation_id = aws_eip.core__nat.id
  subnet_id     = aws_subnet.core__nat_edge.id
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core"
    managed_by = "cloud-engine"
    project    = "shop"
  }
  depends_on = [aws_internet_gateway.core]
}

resource "aws_route_table" "core__private" {
  vpc_id = aws_vpc.core.id
  tags = {
    team       = "platform"
    env        = "prod"
    Name       = "core-private"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.core.id
  }
}

resource "aws_route_table_association" "core__app" {
  subnet_id      = aws_subnet.core__app.id
  route_table_id = aws_route_table.core__private.id
}

resource "aws_route_table_association" "core__data" {
  subnet_id      = aws_subnet.core__data.id
  route_table_id = aws_route_table.core__private.id
}
