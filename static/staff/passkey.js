// After a passkey is registered, go where the server says (the backup codes
// after a first enrolment, else the list of passkeys). Same origin only.
document.addEventListener("otp_webauthn.register_complete", (event) => {
  const target = event.detail && event.detail.response && event.detail.response.redirect_url;
  if (typeof target === "string" && target.startsWith("/") && !target.startsWith("//")) {
    window.location.assign(target);
  }
});
