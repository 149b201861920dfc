"""SQLModel tables, one module per aggregate; importing this package registers them all."""
from claims.models.application import Application
from claims.models.audit import AuditCheckpoint, AuditEvent
from claims.models.claim import Claim, Decision, Recovery
from claims.models.document import Document, DocumentRequest
from claims.models.enterprise import Enterprise, EnterpriseAttribute, EnterpriseCategory, Individual, ListMembership
from claims.models.event import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from claims.models.idempotency import IdempotencyKey
from claims.models.institution import ApiKey, Institution
from claims.models.ledger import LedgerAccount, LedgerEntry, LedgerPosting
from claims.models.loan import Loan
from claims.models.payment import BudgetAdjustment, PaymentBatch, PaymentLine, PayeeAccount, RecoveryReceipt
from claims.models.lpr import LprRate
from claims.models.program import Admission, BudgetYear, Program, RuleChange, RuleVersion
from claims.models.simulation import Simulation, SimulationItem
from claims.models.statement import JobRun, Statement
from claims.models.user import LoginThrottle, StaffSession, User, UserProgram

__all__ = [
    "Admission", "ApiKey", "Application", "AuditCheckpoint", "AuditEvent", "BudgetAdjustment", "BudgetYear", "Claim",
    "Decision", "Document", "DocumentRequest", "Enterprise", "EnterpriseAttribute", "EnterpriseCategory", "Event",
    "IdempotencyKey", "Individual", "Institution", "JobRun", "LedgerAccount", "LedgerEntry", "LedgerPosting",
    "ListMembership", "LoginThrottle", "Loan", "LprRate", "PayeeAccount", "PaymentBatch", "PaymentLine", "Program",
    "Recovery", "RecoveryReceipt", "RuleChange", "RuleVersion", "Simulation", "SimulationItem", "StaffSession",
    "Statement", "User", "UserProgram",
    "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
]
