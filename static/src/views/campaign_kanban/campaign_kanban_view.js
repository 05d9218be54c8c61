import { registry } from "@web/core/registry";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { listView } from "@web/views/list/list_view";
import { ListRenderer } from "@web/views/list/list_renderer";
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

/** The campaign list shows the same template cards when it is empty. */
export class CampaignListRenderer extends ListRenderer {
    static template = "marketing_automation_community.CampaignListRenderer";
    static components = {
        ...ListRenderer.components,
        CampaignTemplatesHelper,
    };

    get isSearching() {
        return this.props.list.domain.length > 0;
    }

    get showNoContentHelper() {
        const { model } = this.props.list;
        return model.useSampleModel || !model.hasData();
    }
}

export const campaignListView = {
    ...listView,
    Renderer: CampaignListRenderer,
};

registry.category("views").add("marketing_campaign_list", campaignListView);
