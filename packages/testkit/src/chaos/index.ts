export { allPassed, resultTable, runScenario, runScenarios, ScenarioFailure, type RunOptions, type Scenario, type ScenarioContext, type ScenarioResult, type ScenarioVerdict } from './runner.js';
export { CHAOS_SCENARIOS, selectScenarios } from './scenarios.js';
