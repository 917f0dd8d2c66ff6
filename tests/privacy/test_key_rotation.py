"""Issue 10 item 18: key rotation that finishes, so an old key can really be dropped.

Rows are written under an old key through the real models, the command
rotates them, the old key is removed from FIELD_ENCRYPTION_KEYS and every
value must still decrypt. A run killed mid-batch (SIGKILL while PostgreSQL
holds it on a row lock) is continued by the next run.
"""

import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from hotline import services as hotline_services
from hotline.models import Tip, TipMessage, TipURL
from privacy.key_rotation import encrypted_columns
from supportline import selectors as supportline_selectors
from supportline.letters import services as letter_services
from supportline.letters.models import Letter, LetterMessage
from supportline.models import Conversation, InternalNote, Message, VisitorBlock
from tests.processes import ROOT, database_url_for_subprocess, service_env

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_every_encrypted_column_of_every_app_is_found():
    labels = {column.label for column in encrypted_columns()}
    assert {
        "hotline.Tip.place",
        "hotline.Tip.occurred",
        "hotline.Tip.description",
        "hotline.Tip.contact",
        "hotline.TipURL.url",
        "hotline.TipMessage.body",
        "supportline.Message.text",
        "supportline.InternalNote.text",
        "supportline.VisitorBlock.reason",
        "supportline.VisitorBlock.review_note",
        "supportline.Letter.draft",
        "supportline.LetterMessage.text",
    } <= labels


def write_everything(n: int = 3) -> None:
    """Rows in every kind of encrypted column, through the models and services that write them."""
    for i in range(n):
        tip = hotline_services.tip_submit(
            category="grooming",
            urls=[f"https://example.com/{i}"],
            place=f"Appen {i}",
            occurred="i går",
            description=f"Beskrivning {i}",
            contact=f"kontakt-{i}@example.org",
            urgent=False,
        ).tip
        TipMessage.objects.create(tip=tip, sender=TipMessage.Sender.REPORTER, body=f"Svar {i}")
        conversation = Conversation.objects.create(
            token_hash=supportline_selectors.token_hash(uuid.uuid4().hex), queued_at=timezone.now()
        )
        Message.objects.create(
            conversation=conversation, seq=1, client_id="c1", sender=Message.Sender.VISITOR, text=f"Hej {i}"
        )
        InternalNote.objects.create(conversation=conversation, text=f"Notering {i}")
        VisitorBlock.objects.create(
            conversation=conversation,
            token_hash="x" * 64,
            reason=f"Hotfullt språk {i}",
            review_note=f"Granskad {i}" if i % 2 else "",
            expires_at=timezone.now() + timedelta(hours=1),
        )
        letter = letter_services.letter_write(text=f"Brev {i}").letter
        Letter.objects.filter(pk=letter.pk).update(draft=f"Utkast {i}")


def read_everything() -> list[str]:
    values: list[str] = []
    for tip in Tip.objects.all():
        values += [tip.place, tip.occurred, tip.description, tip.contact or ""]
    values += [url.url for url in TipURL.objects.all()]
    values += [message.body for message in TipMessage.objects.all()]
    values += [message.text for message in Message.objects.all()]
    values += [note.text for note in InternalNote.objects.all()]
    for block in VisitorBlock.objects.all():
        values += [block.reason, block.review_note]
    values += [letter.draft for letter in Letter.objects.all()]
    values += [message.text for message in LetterMessage.objects.all()]
    return values


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rows_under_an_old_key_rotate_and_the_old_key_can_be_dropped(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    write_everything()
    expected = read_everything()
    assert "Hotfullt språk 0" in expected

    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        read_everything()  # without rotation, dropping the old key loses the data

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    with pytest.raises(CommandError, match="still need an older key"):
        rotate("--check")
    output = rotate("--batch-size", "2")
    assert "supportline.VisitorBlock.reason: 3 re-encrypted" in output
    assert "hotline.Tip.description: batch 2, 3 read" in output  # progress per batch
    assert "Done: every value is under the newest key." in output
    assert "Every value is under the newest key" in rotate("--check")

    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert read_everything() == expected


@pytest.mark.django_db
def test_the_visitor_block_reason_and_note_are_not_stored_in_clear():
    conversation = Conversation.objects.create(token_hash="t" * 64, queued_at=timezone.now())
    VisitorBlock.objects.create(
        conversation=conversation,
        token_hash="x" * 64,
        reason="Skrev sitt eget namn Alva",
        review_note="Alva igen",
        expires_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason, review_note FROM supportline_visitorblock")
        [(reason, note)] = cursor.fetchall()
    assert "Alva" not in reason and "Alva" not in note
    assert VisitorBlock.objects.get().reason == "Skrev sitt eget namn Alva"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_run_killed_mid_batch_is_continued_by_the_next_run(settings, tmp_path):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    write_everything(n=4)
    expected = read_everything()
    tips = list(Tip.objects.order_by("pk").values_list("pk", flat=True))
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    log = tmp_path / "rotate.log"
    env = service_env(DATABASE_URL=database_url_for_subprocess(), FIELD_ENCRYPTION_KEYS=f"{NEW},{OLD}")
    with psycopg.connect(database_url_for_subprocess()) as blocker:
        # Hold the third tip: the run rotates the first two, then waits on this row until killed.
        blocker.execute("SELECT 1 FROM hotline_tip WHERE id = %s FOR UPDATE", [tips[2]])
        with log.open("w") as handle:
            run = subprocess.Popen(
                [sys.executable, "manage.py", "rotate_encryption_keys", "--batch-size", "1"],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 30
            while "hotline.Tip.contact: batch 2" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()
                assert run.poll() is None, log.read_text()
                time.sleep(0.1)
            time.sleep(0.5)
            assert run.poll() is None, "the run should be waiting on the locked row"
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(10)
        blocker.rollback()

    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    rotated_contacts = []
    for pk in tips:
        try:
            Tip.objects.values_list("contact", flat=True).get(pk=pk)
        except ImproperlyConfigured:  # still under the old key
            continue
        rotated_contacts.append(pk)
    assert rotated_contacts == tips[:2]  # the killed batch left nothing half-done

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    output = rotate()
    assert "hotline.Tip.contact: 2 re-encrypted, 2 already current" in output
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert read_everything() == expected


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_block_reasons_already_stored_in_clear_and_back():
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("supportline", "0001_initial")], [("supportline", "0002_encrypt_visitor_block_notes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO supportline_visitorblock (token_hash, reason, review_note, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                ["x" * 64, "Hotade rådgivaren", "Befogat", timezone.now(), timezone.now()],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        with connection.cursor() as cursor:
            cursor.execute("SELECT reason, review_note FROM supportline_visitorblock")
            [(reason, note)] = cursor.fetchall()
        assert "Hotade" not in reason and "Befogat" not in note
        block = VisitorBlock.objects.get()
        assert (block.reason, block.review_note) == ("Hotade rådgivaren", "Befogat")

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT reason, review_note FROM supportline_visitorblock")
            assert cursor.fetchall() == [("Hotade rådgivaren", "Befogat")]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
