"""vm → aws_instance from a looked-up AMI, IMDSv2 only, encrypted gp3 root volume, in the app subnet
with the security groups of every firewall on its network attached."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered, require
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.aws._common import aws_tags, firewall_groups, provider_for

TYPE = "aws_instance"
DEFAULT_MACHINE_TYPE = "t3.micro"
DEFAULT_IMAGE = "amazon-linux-2023"
# image → (owner account, AMI name pattern); the newest matching x86_64 AMI is used.
AMIS = {
    "amazon-linux-2023": ("amazon", "al2023-ami-2023.*-x86_64"),
    "ubuntu-2204-lts": ("099720109477", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"),
    "ubuntu-2404-lts": ("099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"),
    "debian-12": ("136693071363", "debian-12-amd64-*"),
    "rhel-9": ("309956199498", "RHEL-9.*_HVM-*-x86_64-*"),
}
# ami, subnet/AZ, public IP association and root volume encryption all force a new instance.
FORCE_NEW = frozenset({"name", "region", "image", "network", "zone", "public_ip", "encrypted"})


def first_subnet(spec: ResourceSpec, ctx: RenderContext) -> Raw | None:
    net = ctx.required_network(spec)
    if net is None or not net.subnets:
        return None
    return ref("aws_subnet", tf_name(net.name, net.subnets[0].name))


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    image = spec.image or DEFAULT_IMAGE
    require(image in AMIS, f"{spec.name}.image", f"AWS images are {sorted(AMIS)}")
    region = ctx.region_of(spec)
    owner, pattern = AMIS[image]
    ami_name = tf_name(image, region)
    ami = Block("data", ("aws_ami", ami_name), {
        "provider": provider_for(spec, ctx), "most_recent": True, "owners": [owner],
    }, [
        Block("filter", (), {"name": "name", "values": [pattern]}),
        Block("filter", (), {"name": "architecture", "values": ["x86_64"]}),
    ])
    subnet = first_subnet(spec, ctx)
    name = tf_name(spec.name)
    instance = Block("resource", (TYPE, name), {
        "provider": provider_for(spec, ctx),
        "ami": Raw(f"data.aws_ami.{ami_name}.id"),
        "instance_type": spec.machine_type or DEFAULT_MACHINE_TYPE,
        "subnet_id": subnet,
        "availability_zone": spec.zone if subnet is None else None,
        "associate_public_ip_address": bool(spec.public_ip),
        "vpc_security_group_ids": firewall_groups(spec, ctx) or None,
        "ebs_optimized": True,
        "tags": aws_tags(spec, ctx),
    }, [
        Block("metadata_options", (), {"http_endpoint": "enabled", "http_tokens": "required"}),
        Block("root_block_device", (), {
            "volume_size": spec.disk_gb, "volume_type": "gp3", "encrypted": spec.encrypted,
            "delete_on_termination": True,
        }),
    ])
    return Rendered(
        resources=[instance],
        shared={f"data.aws_ami.{ami_name}": ami},
        outputs=[output(spec, ref(TYPE, name), "Instance id")],
    )


KIND = KindRenderer(kind="vm", resource_type=TYPE, render=render, force_new=FORCE_NEW)
