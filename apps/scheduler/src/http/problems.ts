export { problems, ProblemException } from '../../../../libs/common/src/http/problems.js';
