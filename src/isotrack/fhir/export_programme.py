"""The commands of decisions and of the pregnancy prevention programme as FHIR R4:
an override as a ``DetectedIssue`` (the rule id in ``urn:isotrack:rule``, the
reason, who), comprehension answers as a ``QuestionnaireResponse`` (one item per
question, the chosen option's index), counselling as a ``Procedure`` (SNOMED CT
409063005 Counseling, the topic as its text) and a dispensing authorisation as a
``Task`` (focus: the prescription; the do-not-dispense-after date and the
maximum quantity as its restriction and input); a clinician's step on a worklist
item as a ``Task`` too (the item's id, the step as its status: ready when
assigned, with the owner; in-progress when acknowledged; completed when resolved).
"""

from __future__ import annotations

from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AssignWorkItem,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordOverride,
    ResolveWorkItem,
    command_type,
)
from isotrack.clinical.worklist import describe_step
from isotrack.fhir.export_values import (
    COUNSELLING,
    DISPENSE_AUTHORIZATION,
    ISOTRACK_AUTHORIZATION,
    ISOTRACK_QUESTIONNAIRE,
    ISOTRACK_RULE,
    ISOTRACK_TASK,
    ISOTRACK_WORK_ITEM,
    MAX_QUANTITY,
    WORK_STEP,
    WORK_STEP_STATUS,
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


def work_step_resource(
    command: AssignWorkItem | AcknowledgeWorkItem | ResolveWorkItem, subject: Resource
) -> Resource:
    task: Resource = {
        "identifier": [{"system": ISOTRACK_WORK_ITEM, "value": command.item}],
        "status": WORK_STEP_STATUS[command_type(command)],
        "intent": "order",
        "code": {"coding": [coding(ISOTRACK_TASK, WORK_STEP)], "text": describe_step(command)},
        "for": subject,
        "authoredOn": command.on.isoformat(),
    }
    if isinstance(command, AssignWorkItem):
        task["owner"] = {"display": command.assignee}
    elif command.note:
        task["note"] = [{"text": command.note}]
    return task
