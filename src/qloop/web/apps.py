from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "qloop.web"
    label = "web"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from qloop import freshness, orm_speed
        from qloop.cases.recurring import can_see_groups
        from qloop.customers.access import can_use_directory
        from qloop.org.models import Profile
        from qloop.process.definitions import check_definitions
        from qloop.web import kept_i18n, template_speed
        from qloop.web.nav import NavItem, register_nav

        register_nav(
            NavItem(_("New complaint"), "case-create", Profile.MANUFACTURER, order=10),
            NavItem(
                _("Customer feedback"), "case-list", Profile.MANUFACTURER, "kind=feedback", order=40
            ),
            NavItem(
                _("Customers"),
                "customer-list",
                Profile.MANUFACTURER,
                shown_to=can_use_directory,
                order=50,
            ),
            NavItem(_("Recurring problems"), "recurring-list", shown_to=can_see_groups, order=55),
        )
        # The site is the last of QLoop's apps in INSTALLED_APPS (settings.py keeps it so):
        # by now every profile has registered its kinds, processes and step effects.
        check_definitions()
        # Kept figures (the badge, the register's counts) go stale at the first write.
        freshness.install()
        # Column comparisons without inspect: the same identity, built directly.
        orm_speed.install()
        # {% translate "constant" %} kept per language (Django's i18n library, in place).
        kept_i18n.install()
        # Plain text variables, dotted look-ups, {% url %} and numeric dates written directly,
        # as Django writes them (Django's CSRF middleware is left as it is).
        template_speed.install()
