"""Outputs of the observability layer (owner: operations). Data only: no resources."""

from shared.runtime import shapes
from shared.runtime.contracts import LayerOutputs, OutputSpec

OUTPUTS = LayerOutputs("observability", (
    OutputSpec("alarmTopicArn", str, 'SNS topic that receives every alarm', shape=shapes.SNS_TOPIC.of("alarms")),
    OutputSpec("dashboardName", str, 'CloudWatch dashboard name'),
    OutputSpec("dashboardUrl", str, 'console URL of the dashboard'),
    OutputSpec("alarmNames", list[str], 'names of every alarm, composite last'),
    OutputSpec("faultExperimentTemplateIds", dict[str, str],
               'FIS experiment template id per fault (empty without faultExperiments): what `invoke rehearse '
               '--faults` starts'),
))
