from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "bifrost_web.compliance"
    label = "compliance"
    verbose_name = "Compliance and regulatory"
