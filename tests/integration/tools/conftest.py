from tests.integration.tools.k8s_tools import k8s_api

__all__ = ["k8s_api"]
