import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from privacy import crypto
from privacy.fields import EncryptedTextField


def test_round_trip_never_stores_plain_text():
    token = crypto.encrypt("Jag vågar inte berätta")
    assert "vågar" not in token
    assert crypto.decrypt(token) == "Jag vågar inte berätta"


def test_old_keys_still_decrypt_and_rotate_moves_to_the_newest(settings):
    old = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("hemligt")
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == "hemligt"
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "hemligt"
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(token)


def test_field_encrypts_on_the_way_in_and_decrypts_on_the_way_out():
    field = EncryptedTextField()
    stored = field.get_prep_value("mitt namn är Alva")
    assert "Alva" not in stored
    assert field.from_db_value(stored, None, None) == "mitt namn är Alva"
    assert field.get_prep_value(None) is None


def test_field_refuses_lookups_that_cannot_work():
    field = EncryptedTextField()
    assert field.get_lookup("exact") is None
    assert field.get_lookup("isnull") is not None
