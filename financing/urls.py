from django.urls import path

from financing.views import contracts, queue

app_name = "financing"

urlpatterns = [
    # The verification queue and the claims behind every number (financing/views/queue.py).
    path("verification/", queue.queue, name="queue"),
    path("verification/<int:pk>/verify/", queue.claim_verify, name="claim-verify"),
    path("verification/<int:pk>/reject/", queue.claim_reject, name="claim-reject"),
    path("verification/decisions/", queue.decisions, name="decisions"),
    path("claims/", queue.claim_list, name="claims"),
    # Contracts, their schedules and tranches (financing/views/contracts.py).
    path("contracts/", contracts.contract_list, name="contracts"),
    path("contracts/<int:pk>/", contracts.contract_detail, name="contract"),
    path("contracts/<int:pk>/schedule.csv", contracts.schedule_csv, name="contract-csv"),
    path("contracts/<int:pk>/try-terms/", contracts.try_terms, name="contract-try"),
    path("tranches/<int:pk>/approve/", contracts.tranche_approve, name="tranche-approve"),
    path("tranches/<int:pk>/disburse/", contracts.tranche_disburse, name="tranche-disburse"),
]
