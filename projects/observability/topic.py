"""The alarm topic: SNS encrypted with a customer managed KMS key that CloudWatch may use, and e-mail subscribers.

Alarms cannot publish to a topic encrypted with the AWS managed `alias/aws/sns` key (its policy cannot grant
CloudWatch); such alarms deploy cleanly and deliver nothing. So the key is ours, and its policy lets
`cloudwatch.amazonaws.com` generate data keys and decrypt, for alarms of this account only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

# Key administration and use by the account (IAM policies then decide who): named actions, no `kms:*`.
ACCOUNT_KEY_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
    "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
    "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:RetireGrant",
    "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
    "kms:UpdateAlias", "kms:UpdateKeyDescription",
)
CLOUDWATCH = "cloudwatch.amazonaws.com"
CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
# The topic owner keeps managing its topic (the statement SNS puts in a default topic policy).
OWNER_TOPIC_ACTIONS = (
    "sns:AddPermission", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
    "sns:Publish", "sns:RemovePermission", "sns:SetTopicAttributes", "sns:Subscribe",
)


def alarm_source_arn(region: str, account_id: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*"


def key_policy(account_id: str, region: str) -> dict[str, Any]:
    """Key policy: the account administers and uses the key; CloudWatch alarms of this account may use it.

    In a key policy `Resource: "*"` means "this key" (the documented form; a key policy cannot name its own ARN
    before the key exists). The CloudWatch statement is the documented one, unconditioned: AWS does not document
    aws:SourceAccount/aws:SourceArn in the KMS requests made for an alarm's publish (a condition the request lacks
    would drop every notification silently), so those conditions live in the topic policy, where CloudWatch's
    sns:Publish carries them. `region` is kept for callers; the key statement no longer names it.
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministersAndUsesKey", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
             "Action": list(ACCOUNT_KEY_ACTIONS), "Resource": "*"},
            {"Sid": "CloudWatchAlarmsEncryptToTopic", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH},
             "Action": list(CLOUDWATCH_KEY_ACTIONS), "Resource": "*"},
        ],
    }


def topic_policy(topic_arn: pulumi.Input[str], account_id: str, region: str) -> dict[str, Any]:
    """Topic policy: the owner account manages the topic; CloudWatch alarms of this account may publish."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OwnerManagesTopic", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
             "Action": list(OWNER_TOPIC_ACTIONS), "Resource": topic_arn},
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH},
             "Action": "sns:Publish", "Resource": topic_arn,
             "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                           "ArnLike": {"aws:SourceArn": alarm_source_arn(region, account_id)}}},
        ],
    }


def subscription_name(email: str) -> str:
    """Stable logical name per address, so reordering the list replaces nothing."""
    return f"alarm-email-{hashlib.sha256(email.lower().encode()).hexdigest()[:10]}"


@dataclass
class AlarmTopicArgs:
    topic_name: str
    key_alias: str  # without the `alias/` prefix
    account_id: str
    region: str
    emails: tuple[str, ...]


class AlarmTopic(pulumi.ComponentResource):
    def __init__(self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:observability:AlarmTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            "alarm-topic-key",
            description=f"encrypts SNS topic {args.topic_name}; CloudWatch alarms may use it",
            enable_key_rotation=True,
            deletion_window_in_days=7,  # the minimum: teardown should not leave keys pending for 30 days
            policy=pulumi.Output.json_dumps(key_policy(args.account_id, args.region)),
            tags={"Name": args.key_alias},
            opts=child,
        )
        self.alias = aws.kms.Alias("alarm-topic-key-alias", name=f"alias/{args.key_alias}",
                                   target_key_id=self.key.key_id, opts=child)
        self.topic = aws.sns.Topic("alarm-topic", name=args.topic_name, kms_master_key_id=self.key.arn,
                                   tags={"Name": args.topic_name}, opts=child)
        self.policy = aws.sns.TopicPolicy(
            "alarm-topic-policy", arn=self.topic.arn,
            policy=pulumi.Output.json_dumps(topic_policy(self.topic.arn, args.account_id, args.region)), opts=child)
        # E-mail endpoints stay "pending confirmation" until the recipient clicks the link AWS sends.
        self.subscriptions = [
            aws.sns.TopicSubscription(subscription_name(email), topic=self.topic.arn, protocol="email",
                                      endpoint=email, opts=child)
            for email in args.emails
        ]
        self.register_outputs({"topicArn": self.topic.arn, "keyArn": self.key.arn})
