import { Component, onWillStart, useState } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";

/**
 * The campaign templates, shown instead of the empty Campaigns view: a click
 * on a card creates its draft campaign and opens it.
 */
export class CampaignTemplatesHelper extends Component {
    static template = "marketing_automation_community.CampaignTemplatesHelper";
    static props = {
        isSearching: Boolean,
    };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ templates: [], creating: false });
        onWillStart(async () => {
            const templates = await this.orm.call(
                "marketing.campaign",
                "get_campaign_templates_info",
                []
            );
            this.state.templates = Object.entries(templates).map(([key, template]) => ({
                key,
                ...template,
            }));
        });
    }

    async onTemplateClick(template) {
        if (!template.available || this.state.creating) {
            return;
        }
        this.state.creating = true;
        try {
            const action = await this.orm.call(
                "marketing.campaign",
                "action_create_campaign_from_template",
                [template.key]
            );
            await this.action.doAction(action);
        } finally {
            this.state.creating = false;
        }
    }
}
