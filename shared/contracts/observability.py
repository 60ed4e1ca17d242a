"""Outputs of the observability layer (owner: operations)."""

from shared.contracts import OutputSpec

OUTPUTS = (
    OutputSpec("alarmTopicArn", "SNS topic that receives every alarm"),
    OutputSpec("dashboardName", "CloudWatch dashboard name"),
    OutputSpec("dashboardUrl", "console URL of the dashboard"),
    OutputSpec("alarmNames", "names of every alarm, composite last"),
)
