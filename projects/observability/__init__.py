"""Observability layer (owner: operations): dashboard, alarms, log metric filters, SNS notifications."""
