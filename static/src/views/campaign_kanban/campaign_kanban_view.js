import { registry } from "@web/core/registry";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { CampaignTemplatesHelper } from "./campaign_templates_helper";

export class CampaignKanbanRenderer extends KanbanRenderer {
    static template = "marketing_automation_community.CampaignKanbanRenderer";
    static components = {
        ...KanbanRenderer.components,
        CampaignTemplatesHelper,
    };

    get isSearching() {
        return this.props.list.domain.length > 0;
    }
}

export const campaignKanbanView = {
    ...kanbanView,
    Renderer: CampaignKanbanRenderer,
};

registry.category("views").add("marketing_campaign_kanban", campaignKanbanView);
