module odoo-saas/images/pause

go 1.26.0
