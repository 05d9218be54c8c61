import { registry } from "@web/core/registry";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";
import { ListRenderer } from "@web/views/list/list_renderer";
import { confirmCampaignDelete } from "../campaign_form/campaign_form_view";
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

/** Deleting campaigns from the list says what goes with them. */
export class CampaignListController extends ListController {
    async onDeleteSelectedRecords() {
        const root = this.model.root;
        const resIds = await root.getResIds(true);
        await confirmCampaignDelete(this.env, resIds, () => root.deleteRecords());
    }
}

export const campaignListView = {
    ...listView,
    Controller: CampaignListController,
    Renderer: CampaignListRenderer,
};

registry.category("views").add("marketing_campaign_list", campaignListView);
