"""The commands of decisions and of the pregnancy prevention programme as FHIR R4:
an override as a ``DetectedIssue`` (the rule id in ``urn:isotrack:rule``, the
reason, who), comprehension answers as a ``QuestionnaireResponse`` (one item per
question, the chosen option's index), counselling as a ``Procedure`` (SNOMED CT
409063005 Counseling, the topic as its text) and a dispensing authorisation as a
``Task`` (focus: the prescription; the do-not-dispense-after date and the
maximum quantity as its restriction and input).
"""

from __future__ import annotations

from isotrack.clinical.state import (
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordOverride,
)
from isotrack.fhir.export_values import (
    COUNSELLING,
    DISPENSE_AUTHORIZATION,
    ISOTRACK_AUTHORIZATION,
    ISOTRACK_QUESTIONNAIRE,
    ISOTRACK_RULE,
    ISOTRACK_TASK,
    MAX_QUANTITY,
    Resource,
    capsules,
    coding,
)
from isotrack.knowledge.base import KnowledgeBase


def override_resource(
    command: RecordOverride, actor: str, subject: Resource, kb: KnowledgeBase
) -> Resource:
    title = kb.rule(command.rule_id).title
    return {
        "status": "final",
        "code": {"coding": [coding(ISOTRACK_RULE, command.rule_id, title)], "text": title},
        "patient": subject,
        "identifiedDateTime": command.on.isoformat(),
        "author": {"display": actor},
        "detail": command.reason,
        "mitigation": [
            {
                "action": {"text": f"Overridden: {command.reason}"},
                "date": command.on.isoformat(),
                "author": {"display": actor},
            }
        ],
    }


def answers_resource(
    command: RecordComprehensionAnswers, programme: str, subject: Resource
) -> Resource:
    return {
        "questionnaire": f"{ISOTRACK_QUESTIONNAIRE}{programme}",
        "status": "completed",
        "subject": subject,
        "authored": command.on.isoformat(),
        "item": [
            {"linkId": question, "answer": [{"valueInteger": option}]}
            for question, option in command.answers
        ],
    }


def counselling_resource(command: RecordCounselling, subject: Resource) -> Resource:
    resource: Resource = {
        "status": "completed",
        "code": {"coding": [COUNSELLING], "text": command.topic},
        "subject": subject,
        "performedDateTime": command.on.isoformat(),
    }
    if command.note:
        resource["note"] = [{"text": command.note}]
    return resource


def authorization_resource(
    command: RecordAuthorization, focus: Resource, subject: Resource
) -> Resource:
    return {
        "identifier": [{"system": ISOTRACK_AUTHORIZATION, "value": command.authorization_id}],
        "status": "accepted",
        "intent": "order",
        "code": {
            "coding": [coding(ISOTRACK_TASK, DISPENSE_AUTHORIZATION)],
            "text": "Isotretinoin dispensing authorisation",
        },
        "focus": focus,
        "for": subject,
        "authoredOn": command.on.isoformat(),
        "restriction": {"period": {"end": command.not_after.isoformat()}},
        "input": [
            {
                "type": {"coding": [coding(ISOTRACK_TASK, MAX_QUANTITY)]},
                "valueQuantity": capsules(command.max_quantity),
            }
        ],
    }
