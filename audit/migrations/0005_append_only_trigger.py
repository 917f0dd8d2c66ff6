"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the audit tables, except in the retention purge.

``audit.services.purge_events_before`` runs ``SET LOCAL ecpat.audit_purge = 'on'``
inside its transaction; only then may events be deleted and the anchor be
written. The one UPDATE let through otherwise is the one Django makes when a
staff account is deleted (``actor`` is ``SET_NULL``): it may clear
``actor_id`` and nothing else, since ``actor_label``, which the chain covers,
keeps the name. TRUNCATE (``manage.py flush``) is refused too; the test
profile alone sets ``ecpat.audit_truncate`` so pytest can empty tables
between tests.

This stops the application's own code, a SQL injection through it, and an
operator's slip. It does not stop someone who holds the table owner's or a
superuser's rights (they can disable the trigger) or who runs SQL as the
app's role and sets the flag themselves: against them stand the keyed chain,
the signed anchor and the checkpoints outside the database (docs/security.md).
SQLite has no such trigger; the embedded mode trusts its single machine.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    purging boolean := coalesce(current_setting('ecpat.audit_purge', true), '') = 'on';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF coalesce(current_setting('ecpat.audit_truncate', true), '') = 'on' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_TABLE_NAME = 'audit_auditchainanchor' THEN
        IF purging THEN
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF purging THEN
            RETURN OLD;
        END IF;
    ELSIF NEW.actor_id IS NULL
          AND (NEW.id, NEW.created_at, NEW.actor_label, NEW.action, NEW.object_type, NEW.object_id,
               NEW.previous_hash, NEW.hash)
              IS NOT DISTINCT FROM
              (OLD.id, OLD.created_at, OLD.actor_label, OLD.action, OLD.object_type, OLD.object_id,
               OLD.previous_hash, OLD.hash) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit trail is append-only: % on % refused outside the retention purge', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_auditchainanchor_purge_only
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchainanchor
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_auditchainanchor_no_truncate
    BEFORE TRUNCATE ON audit_auditchainanchor
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_auditchainanchor_no_truncate ON audit_auditchainanchor;
DROP TRIGGER IF EXISTS audit_auditchainanchor_purge_only ON audit_auditchainanchor;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_key_the_chain"),
    ]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]
