"""Evidence documents of claims and applications: upload, list, download, and the checklist schemas."""
from __future__ import annotations

from flask import send_file
from flask.views import MethodView
from flask_smorest.fields import Upload

from claims.api.spec import Blueprint, EVERYONE, allow
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import StrictSchema
from claims.api.uploads import attachment
from claims.services import documents
from workflows.evidence import DOCUMENT_KINDS

blp = Blueprint("documents", __name__,
                description="Evidence documents (申请材料) of claims and applications")


# What documents.sniff_type recognises (uploads of any other content are refused).
DOWNLOAD_TYPES = ("application/pdf", "image/png", "image/jpeg",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class DocumentSchema(StrictSchema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    created_at = fields.DateTime()


class DocumentUploadSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(sorted(DOCUMENT_KINDS)),
                         metadata={"description": "; ".join(f"{k} {v}" for k, v in DOCUMENT_KINDS.items())})
    file = Upload(required=True, metadata={"description": "PDF, PNG, JPEG or XLSX (type read from the content)"})


class DocumentAskSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(sorted(DOCUMENT_KINDS)))
    count = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=20))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class ChecklistItemSchema(StrictSchema):
    kinds = fields.List(fields.String())
    label = fields.String()
    required = fields.Integer()
    present = fields.Integer()
    missing = fields.Integer()
    source = fields.String(metadata={"description": "program (the program file) or return (a reviewer asked)"})
    note = fields.String()


class ChecklistSchema(StrictSchema):
    complete = fields.Boolean()
    items = fields.List(fields.Nested(ChecklistItemSchema))
    missing = fields.List(fields.Nested(ChecklistItemSchema))


class _Documents(MethodView):
    owner_type = ""

    @allow(*EVERYONE)
    @blp.response(200, DocumentSchema(many=True))
    def get(self, **ids):
        """List the documents."""
        return documents.documents_of(context.session(), principal=context.principal(), owner_type=self.owner_type,
                                      owner_id=ids[f"{self.owner_type}_id"])

    @allow("institution")
    @blp.arguments(DocumentUploadSchema, location="multipart")
    @blp.response(201, DocumentSchema)
    def post(self, form, **ids):
        """Attach a document (PDF, PNG, JPEG, XLSX) while draft or returned; its SHA-256 is recorded."""
        s = context.settings()
        upload = form["file"]
        return documents.attach_document(context.session(), principal=context.principal(),
                                         owner_type=self.owner_type, owner_id=ids[f"{self.owner_type}_id"],
                                         kind=form["kind"],
                                         filename=upload.filename or "", stream=upload.stream,
                                         store=context.store(), max_bytes=s.max_upload_bytes,
                                         allowed_types=s.document_types)


class _DocumentFile(MethodView):
    owner_type = ""

    @allow(*EVERYONE)
    @blp.doc(responses={"200": {"description": "The document's bytes, with the type sniffed at upload",
                                "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                                            for kind in DOWNLOAD_TYPES}}})
    def get(self, document_id, **ids):
        """Download a document's bytes."""
        document, stream = documents.document_file(context.session(), principal=context.principal(),
                                                   owner_type=self.owner_type, owner_id=ids[f"{self.owner_type}_id"],
                                                   document_id=document_id, store=context.store())
        return attachment(send_file(stream, mimetype=document.content_type), document.filename,
                          fallback=f"document-{document.id}")


@blp.route("/claims/<int:claim_id>/documents")
class ClaimDocuments(_Documents):
    owner_type = "claim"


@blp.route("/claims/<int:claim_id>/documents/<int:document_id>")
class ClaimDocumentFile(_DocumentFile):
    owner_type = "claim"


@blp.route("/applications/<int:application_id>/documents")
class ApplicationDocuments(_Documents):
    owner_type = "application"


@blp.route("/applications/<int:application_id>/documents/<int:document_id>")
class ApplicationDocumentFile(_DocumentFile):
    owner_type = "application"
