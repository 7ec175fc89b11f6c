from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "financing"
    verbose_name = "Results-based financing"

    def ready(self) -> None:
        # Facts announce, money listens: ``workers`` says which workers' facts changed, never what to pay.
        from financing.receivers import on_worker_facts_changed
        from workers.signals import worker_facts_changed

        worker_facts_changed.connect(on_worker_facts_changed, dispatch_uid="financing.on_worker_facts_changed")
