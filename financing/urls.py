from django.urls import path

from financing.views import claims, contracts, glossary, history, queue

app_name = "financing"

urlpatterns = [
    # The verification queue and the claims behind every number (financing/views/queue.py).
    path("verification/", queue.queue, name="queue"),
    path("verification/<int:pk>/verify/", queue.claim_verify, name="claim-verify"),
    path("verification/<int:pk>/reject/", queue.claim_reject, name="claim-reject"),
    path("verification/decisions/", queue.decisions, name="decisions"),
    path("verification/decisions.csv", queue.decisions_csv, name="decisions-csv"),
    path("claims/", queue.claim_list, name="claims"),
    path("claims.csv", queue.claim_list_csv, name="claims-csv"),
    # One claim, and staff's decisions after the queue (financing/views/claims.py).
    path("claims/<int:pk>/", claims.claim_detail, name="claim"),
    path("claims/<int:pk>/reverse/", claims.claim_reverse, name="claim-reverse"),
    path("claims/<int:pk>/reopen/", claims.claim_reopen, name="claim-reopen"),
    path("contracts/<int:pk>/verify-now/", claims.contract_verify_now, name="contract-verify-now"),
    # Contracts, their schedules and tranches (financing/views/contracts.py).
    path("contracts/", contracts.contract_list, name="contracts"),
    path("contracts.csv", contracts.contract_list_csv, name="contracts-csv"),
    path("money/", glossary.glossary, name="glossary"),
    path("contracts/<int:pk>/", contracts.contract_detail, name="contract"),
    path("contracts/<int:pk>/schedule.csv", contracts.schedule_csv, name="contract-csv"),
    path("contracts/<int:pk>/try-terms/", contracts.try_terms, name="contract-try"),
    path("contracts/<int:pk>/history/", history.contract_history, name="contract-history"),
    path("tranches/<int:pk>/approve/", contracts.tranche_approve, name="tranche-approve"),
    path("tranches/<int:pk>/disburse/", contracts.tranche_disburse, name="tranche-disburse"),
    path("refunds/<int:pk>/settle/", contracts.refund_settle, name="refund-settle"),
]
