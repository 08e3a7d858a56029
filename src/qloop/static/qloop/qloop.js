// Fill the contact fields from a returning contact chosen in the suggestions.
document.addEventListener("click", function (event) {
  var item = event.target.closest(".contact-match");
  if (!item) return;
  var set = function (id, value) { var el = document.getElementById(id); if (el) el.value = value || ""; };
  set("id_contact_name", item.dataset.name);
  set("id_contact_gender", item.dataset.gender);
  set("id_contact_phone", item.dataset.phone);
  set("id_contact_email", item.dataset.email);
  set("id_contact_qq", item.dataset.qq);
  set("id_contact_organisation", item.dataset.organisation);
  var box = document.getElementById("contact-matches");
  if (box) box.innerHTML = "";
});
